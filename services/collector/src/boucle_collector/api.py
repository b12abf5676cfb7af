"""The collector's native HTTP API: one fact per request, answered once Kafka has it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

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
from boucle_collector.handlers import IntakeHandler, IntakeUnavailableError
from boucle_contracts.feedback.v1 import SurveyResponseSubmitted
from boucle_contracts.incidents.v1 import ComplaintReceived, HazardReported
from boucle_contracts.training.v1 import DropoutRecorded, EnrolmentRecorded, SessionCompleted

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN, description="Training network (tenant).")]
SiteId = Annotated[str, Path(pattern=ID_PATTERN, description="Site of the network.")]
RETRY_AFTER_SECONDS = "5"


class Accepted(BaseModel):
    event_id: str
    event_type: str
    status: str = "accepted"


def intake_router(handler: IntakeHandler) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}/sites/{site_id}", tags=["intake"])
    responses: dict[int | str, dict[str, Any]] = {
        503: {"description": "Kafka unavailable: nothing was accepted, retry later."}
    }

    async def accept(
        kind: IntakeKind[DataT], network_id: str, site_id: str, body: DataT
    ) -> Accepted:
        event = await handler.accept(
            kind, Intake(network_id=network_id, site_id=site_id, channel="api"), body
        )
        return Accepted(event_id=event.id, event_type=event.type)

    @router.post("/survey-responses", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_survey_response(
        network_id: NetworkId, site_id: SiteId, body: SurveyResponseSubmitted
    ) -> Accepted:
        """A survey response (appréciation) from a learner, funder, trainer or company."""
        return await accept(SURVEY_RESPONSE, network_id, site_id, body)

    @router.post("/complaints", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_complaint(
        network_id: NetworkId, site_id: SiteId, body: ComplaintReceived
    ) -> Accepted:
        """A complaint (réclamation), whatever the channel it came through."""
        return await accept(COMPLAINT, network_id, site_id, body)

    @router.post("/hazards", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_hazard(network_id: NetworkId, site_id: SiteId, body: HazardReported) -> Accepted:
        """A hazard (aléa) or difficulty met during a training."""
        return await accept(HAZARD, network_id, site_id, body)

    @router.post("/enrolments", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_enrolment(
        network_id: NetworkId, site_id: SiteId, body: EnrolmentRecorded
    ) -> Accepted:
        """An enrolment: the denominator of response and dropout rates."""
        return await accept(ENROLMENT, network_id, site_id, body)

    @router.post("/session-completions", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_session_completed(
        network_id: NetworkId, site_id: SiteId, body: SessionCompleted
    ) -> Accepted:
        """A session came to its end, with its enrolled and completing learner counts."""
        return await accept(SESSION_COMPLETED, network_id, site_id, body)

    @router.post("/dropouts", status_code=status.HTTP_202_ACCEPTED, responses=responses)
    async def post_dropout(
        network_id: NetworkId, site_id: SiteId, body: DropoutRecorded
    ) -> Accepted:
        """A learner dropped out (abandon), with the reason."""
        return await accept(DROPOUT, network_id, site_id, body)

    return router


def install_error_handlers(app: FastAPI) -> None:
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
