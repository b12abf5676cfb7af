"""Domain refusals as HTTP answers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from boucle_actions.domain.cases import TransitionRefusedError
from boucle_actions.domain.chronology import ChronologyError
from boucle_actions.domain.ports import ConflictError
from boucle_actions.usecases.common import NotFoundError


def install_error_handlers(app: FastAPI) -> None:
    """Domain refusals as HTTP: 404 unknown, 409 stale revision, refused transition or a
    request_id of another site, 422 a change that leaves an invalid action (e.g. a title set
    to null), naming the field."""

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    async def out_of_order(_: Request, exc: Exception) -> JSONResponse:
        reason = exc.reason if isinstance(exc, ChronologyError) else str(exc)
        detail = [{"loc": ["body", "occurred_at"], "msg": reason, "type": "chronology"}]
        return JSONResponse({"detail": detail}, status_code=422)

    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ChronologyError, out_of_order)
    app.add_exception_handler(ValidationError, invalid)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(TransitionRefusedError, conflict)
