"""The collector's native HTTP API: facts one at a time or in bulk, answered once Kafka has them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, NoReturn

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request, Response, status
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from pymongo.errors import PyMongoError

from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.domain.intake import (
    COMPLAINT,
    DROPOUT,
    ENROLMENT,
    HAZARD,
    SESSION_COMPLETED,
    SURVEY_RESPONSE,
    DataT,
    Intake,
    IntakeKind,
)
from boucle_collector.domain.integrations import AccessDeniedError, Caller, Tenancy
from boucle_collector.domain.limits import RateLimiter, retry_after
from boucle_collector.handlers import IntakeHandler, IntakeUnavailableError, Outcome
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.middleware import channel_of
from boucle_contracts.common import ContractModel
from boucle_contracts.feedback.v1 import SurveyResponseSubmitted
from boucle_contracts.incidents.v1 import ComplaintReceived, HazardReported
from boucle_contracts.training.v1 import DropoutRecorded, EnrolmentRecorded, SessionCompleted

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN, description="Training network (tenant).")]
SiteId = Annotated[str, Path(pattern=ID_PATTERN, description="Site of the network.")]
RETRY_AFTER_SECONDS = "5"
SLUGS: dict[str, IntakeKind[Any]] = {
    "survey-responses": SURVEY_RESPONSE,
    "complaints": COMPLAINT,
    "hazards": HAZARD,
    "enrolments": ENROLMENT,
    "session-completions": SESSION_COMPLETED,
    "dropouts": DROPOUT,
}

API_KEY_HEADER = APIKeyHeader(
    name="X-Api-Key", auto_error=False, description="API key of an integration."
)
BEARER = HTTPBearer(auto_error=False, description="The same API key, as a bearer token.")
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown one."},
    403: {"description": "The key may not write for this network or site; the reason is given."},
    413: {"description": "Body larger than the limit."},
    429: {"description": "Rate limit of the key reached; see Retry-After."},
    503: {"description": "Kafka unavailable: nothing was accepted, retry later (Retry-After)."},
}


class Accepted(BaseModel):
    event_id: str
    event_type: str
    status: str = "accepted"


def _accepted(outcome: Outcome, response: Response) -> Accepted:
    if outcome.duplicate:
        response.status_code = status.HTTP_200_OK
    return Accepted(event_id=outcome.event.id, event_type=outcome.event.type, status=outcome.status)


@dataclass(frozen=True)
class Gate:
    """Who may write where, and how often: API keys, tenancy, and the per-key rate limit."""

    integrations: IntegrationsSource
    limiter: RateLimiter
    metrics: CollectorMetrics

    def refuse(
        self, code: int, reason: str, channel: str, detail: str | list[Any], **headers: str
    ) -> NoReturn:
        self.metrics.rejected.labels(reason, channel).inc()
        raise HTTPException(code, detail=detail, headers=headers or None)

    def throttle(self, principal: str, channel: str) -> None:
        wait = self.limiter.acquire(principal)
        if wait > 0:
            self.refuse(
                429,
                "rate_limited",
                channel,
                f"rate limit of {principal} reached; retry later",
                **{"Retry-After": retry_after(wait)},
            )

    def authenticate(self, key: str | None, channel: str) -> Caller:
        """The caller owning ``key``, or 401."""
        if not key:
            self.refuse(
                401,
                "unauthenticated",
                channel,
                "API key missing: send it in X-Api-Key or Authorization: Bearer",
                **{"WWW-Authenticate": "Bearer"},
            )
        caller = self.integrations.current.authenticate(key)
        if caller is None:
            self.refuse(
                401,
                "unauthenticated",
                channel,
                "API key unknown (revoked or mistyped)",
                **{"WWW-Authenticate": "Bearer"},
            )
        return caller

    def dependency(self) -> Callable[..., Awaitable[Caller | None]]:
        async def authorised(
            request: Request,
            api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
            bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        ) -> Caller | None:
            """The caller allowed to write for this network and site (None: open API)."""
            # The endpoint validates the path ids; they are only compared here.
            network_id = str(request.path_params.get("network_id", ""))
            site_id = str(request.path_params.get("site_id", ""))
            channel = channel_of(request.url.path) or "api"
            key = api_key or (bearer.credentials if bearer else None)
            caller: Caller | None = None
            if self.integrations.open:
                principal = f"open/{request.client.host if request.client else 'unknown'}"
            else:
                caller = self.authenticate(key, channel)
                try:
                    Tenancy.authorise(caller, network_id=network_id, site_id=site_id)
                except AccessDeniedError as denied:
                    self.refuse(403, "forbidden", channel, str(denied))
                principal = caller.principal
            self.throttle(principal, channel)
            request.state.caller = caller  # for routes that need the integration
            return caller

        return authorised


def intake_router(handler: IntakeHandler, gate: Gate) -> APIRouter:
    router = APIRouter(
        prefix="/v1/networks/{network_id}/sites/{site_id}",
        tags=["intake"],
        dependencies=[Depends(gate.dependency())],
    )
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "Duplicate: already accepted, not published again."},
        **COMMON_RESPONSES,
    }

    async def accept(
        kind: IntakeKind[DataT], network_id: str, site_id: str, body: DataT, response: Response
    ) -> Accepted:
        outcome = await handler.accept(
            kind, Intake(network_id=network_id, site_id=site_id, channel="api"), body
        )
        return _accepted(outcome, response)

    @router.post("/survey-responses", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_survey_response(
        network_id: NetworkId, site_id: SiteId, body: SurveyResponseSubmitted, response: Response
    ) -> Accepted:
        """A survey response (appréciation) from a learner, funder, trainer or company."""
        return await accept(SURVEY_RESPONSE, network_id, site_id, body, response)

    @router.post("/complaints", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_complaint(
        network_id: NetworkId, site_id: SiteId, body: ComplaintReceived, response: Response
    ) -> Accepted:
        """A complaint (réclamation), whatever the channel it came through."""
        return await accept(COMPLAINT, network_id, site_id, body, response)

    @router.post("/hazards", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_hazard(
        network_id: NetworkId, site_id: SiteId, body: HazardReported, response: Response
    ) -> Accepted:
        """A hazard (aléa) or difficulty met during a training."""
        return await accept(HAZARD, network_id, site_id, body, response)

    @router.post("/enrolments", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_enrolment(
        network_id: NetworkId, site_id: SiteId, body: EnrolmentRecorded, response: Response
    ) -> Accepted:
        """An enrolment: the denominator of response and dropout rates."""
        return await accept(ENROLMENT, network_id, site_id, body, response)

    @router.post("/session-completions", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_session_completed(
        network_id: NetworkId, site_id: SiteId, body: SessionCompleted, response: Response
    ) -> Accepted:
        """A session came to its end, with its enrolled and completing learner counts."""
        return await accept(SESSION_COMPLETED, network_id, site_id, body, response)

    @router.post("/dropouts", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_dropout(
        network_id: NetworkId, site_id: SiteId, body: DropoutRecorded, response: Response
    ) -> Accepted:
        """A learner dropped out (abandon), with the reason."""
        return await accept(DROPOUT, network_id, site_id, body, response)

    return router


# --- bulk ----------------------------------------------------------------------------------


class BulkItem(BaseModel):
    STATUSES: ClassVar[tuple[str, ...]] = ("accepted", "duplicate", "invalid", "unavailable")

    line: int
    status: str
    event_id: str | None = None
    errors: list[str] = []


class BulkResult(BaseModel):
    accepted: int
    duplicates: int
    invalid: int
    unavailable: int
    items: list[BulkItem]


def _errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()]


Prepared = tuple[int, ContractModel | list[str]]  # line number, data or what is wrong with it


async def publish_prepared(
    handler: IntakeHandler, kind: IntakeKind[Any], intake: Intake, prepared: list[Prepared]
) -> BulkResult:
    """Every valid item published at once, each answered on its own outcome.

    The sends are concurrent so the producer batches them: awaiting each acknowledgement
    before the next send made a bulk request cost one broker round trip per line (the
    collector bench measured 11 % of raw aiokafka that way). Duplicates within the request
    are still answered as such: the second waits for the first's publication.
    """
    valid = [(number, data) for number, data in prepared if not isinstance(data, list)]
    outcomes = await asyncio.gather(
        *(handler.accept(kind, intake, data) for _, data in valid), return_exceptions=True
    )
    published = {number: outcome for (number, _), outcome in zip(valid, outcomes, strict=True)}
    items: list[BulkItem] = []
    for number, data in prepared:
        if isinstance(data, list):
            handler.metrics.rejected.labels("invalid", intake.channel).inc()
            items.append(BulkItem(line=number, status="invalid", errors=data))
            continue
        outcome = published[number]
        if isinstance(outcome, IntakeUnavailableError):
            items.append(BulkItem(line=number, status="unavailable"))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            items.append(BulkItem(line=number, status=outcome.status, event_id=outcome.event.id))
    count = {s: sum(1 for i in items if i.status == s) for s in BulkItem.STATUSES}
    return BulkResult(
        accepted=count["accepted"],
        duplicates=count["duplicate"],
        invalid=count["invalid"],
        unavailable=count["unavailable"],
        items=items,
    )


def _parsed_lines(kind: IntakeKind[Any], lines: list[tuple[int, bytes]]) -> list[Prepared]:
    data_class: type[ContractModel] = kind.event_class.model_fields["data"].annotation  # type: ignore[assignment]
    prepared: list[Prepared] = []
    for number, line in lines:
        try:
            prepared.append((number, data_class.model_validate_json(line)))
        except ValidationError as exc:
            prepared.append((number, _errors(exc)))
    return prepared


def bulk_response(result: BulkResult) -> JSONResponse:
    """200 with every item's outcome; 503 (and Retry-After) when some could not be published."""
    if result.unavailable:
        return JSONResponse(
            result.model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return JSONResponse(result.model_dump())


def bulk_router(handler: IntakeHandler, gate: Gate, *, max_items: int) -> APIRouter:
    router = APIRouter(prefix="/v1/bulk/networks/{network_id}/sites/{site_id}", tags=["bulk"])
    ndjson = {
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "description": "One JSON object per line: the event's data model.",
        }
    }
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "Every line's outcome.", "model": BulkResult},
        422: {"description": "Too many lines, or not UTF-8."},
    }
    responses |= COMMON_RESPONSES

    def endpoint(slug: str, kind: IntakeKind[Any]) -> None:
        @router.post(
            f"/{slug}",
            openapi_extra=ndjson,
            responses=responses,
            response_model=BulkResult,
            name=f"bulk_{slug.replace('-', '_')}",
            summary=f"Bulk {slug} (NDJSON), answered per line",
            dependencies=[Depends(gate.dependency())],
        )
        async def post_bulk(
            network_id: NetworkId, site_id: SiteId, request: Request
        ) -> JSONResponse:
            body = await request.body()
            lines = [(n, line) for n, line in enumerate(body.splitlines(), 1) if line.strip()]
            if len(lines) > max_items:
                gate.refuse(
                    422,
                    "too_many_items",
                    "bulk",
                    f"{len(lines)} lines; at most {max_items} per request",
                )
            intake = Intake(network_id=network_id, site_id=site_id, channel="bulk")
            prepared = _parsed_lines(kind, lines)
            return bulk_response(await publish_prepared(handler, kind, intake, prepared))

    for slug, kind in SLUGS.items():
        endpoint(slug, kind)
    return router


def install_error_handlers(app: FastAPI, metrics: CollectorMetrics | None = None) -> None:
    @app.exception_handler(IntakeUnavailableError)
    async def unavailable(_: Request, exc: IntakeUnavailableError) -> JSONResponse:
        return JSONResponse(
            {
                "detail": "Event store unavailable; nothing was accepted. Retry later.",
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
