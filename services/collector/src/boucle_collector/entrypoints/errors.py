"""Refusals shared by the intake routes: how they are documented, and how the app answers
an unavailable Kafka or MongoDB and an invalid request (503 with Retry-After, 422)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError

from boucle_collector.intake_publisher import IntakeUnavailableError
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.middleware import channel_of

RETRY_AFTER_SECONDS = "5"
# What is true after a broker failure: Kafka may have written the event before failing (or
# the producer may deliver it after our timeout), so "nothing was accepted" would be a lie.
OUTCOME_UNKNOWN = (
    "Kafka did not confirm the event: the outcome is unknown, it may or may not have been "
    "accepted. Retrying is safe: the same fact gets the same event id, and consumers count "
    "an event id once."
)
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown one."},
    403: {"description": "The key may not write for this network or site; the reason is given."},
    413: {"description": "Body larger than the limit."},
    429: {"description": "Rate limit of the key reached; see Retry-After."},
    503: {
        "description": "Kafka did not confirm: the outcome is unknown (`outcome: unknown`, "
        "`event_id`); retrying is safe, the event id is the same (Retry-After)."
    },
}


def install_error_handlers(app: FastAPI, metrics: CollectorMetrics | None = None) -> None:
    @app.exception_handler(IntakeUnavailableError)
    async def unavailable(_: Request, exc: IntakeUnavailableError) -> JSONResponse:
        return JSONResponse(
            {
                "detail": OUTCOME_UNKNOWN,
                "outcome": "unknown",
                "event_id": exc.event_id,
                "error": str(exc),
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )

    @app.exception_handler(PyMongoError)
    async def store_unavailable(request: Request, exc: PyMongoError) -> JSONResponse:
        """MongoDB (mappings managed through the API) did not answer: retry later. A retried
        write is safe: it names the revision it replaces (409 if the first one landed)."""
        if metrics is not None:
            channel = channel_of(request.url.path) or "api"
            metrics.rejected.labels("store_unavailable", channel).inc()
        return JSONResponse(
            {"detail": "Mapping store unavailable. Retry later.", "error": type(exc).__name__},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if metrics is not None:
            metrics.rejected.labels("invalid", channel_of(request.url.path) or "api").inc()
        return await request_validation_exception_handler(request, exc)
