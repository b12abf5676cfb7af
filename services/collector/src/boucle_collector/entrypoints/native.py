"""The native HTTP API: one fact per request, answered once Kafka has it.

Its routes, like the bulk ones, are generated from one table: a kind of fact, the last
segment of its URL and how its route is named and described.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from boucle_collector.domain.intake import (
    COMPLAINT,
    DROPOUT,
    ENROLMENT,
    HAZARD,
    SESSION_COMPLETED,
    SURVEY_RESPONSE,
    Intake,
    IntakeKind,
)
from boucle_collector.entrypoints.errors import COMMON_RESPONSES
from boucle_collector.entrypoints.gate import Gate
from boucle_collector.entrypoints.path_params import NetworkId, SiteId
from boucle_collector.intake_publisher import IntakePublisher
from boucle_contracts.common import ContractModel


@dataclass(frozen=True, slots=True)
class IntakeRoute:
    """A kind of fact taken by the native and bulk APIs, and what its routes are called."""

    slug: str  # last segment of the URL, native and bulk alike
    kind: IntakeKind[Any]
    operation: str  # name of the native route: its OpenAPI operation id and summary
    description: str


INTAKE_ROUTES: tuple[IntakeRoute, ...] = (
    IntakeRoute(
        "survey-responses",
        SURVEY_RESPONSE,
        "post_survey_response",
        "A survey response (appréciation) from a learner, funder, trainer or company.",
    ),
    IntakeRoute(
        "complaints",
        COMPLAINT,
        "post_complaint",
        "A complaint (réclamation), whatever the channel it came through.",
    ),
    IntakeRoute(
        "hazards", HAZARD, "post_hazard", "A hazard (aléa) or difficulty met during a training."
    ),
    IntakeRoute(
        "enrolments",
        ENROLMENT,
        "post_enrolment",
        "An enrolment: the denominator of response and dropout rates.",
    ),
    IntakeRoute(
        "session-completions",
        SESSION_COMPLETED,
        "post_session_completed",
        "A session came to its end, with its enrolled and completing learner counts.",
    ),
    IntakeRoute(
        "dropouts", DROPOUT, "post_dropout", "A learner dropped out (abandon), with the reason."
    ),
)
SLUGS: dict[str, IntakeKind[Any]] = {route.slug: route.kind for route in INTAKE_ROUTES}


class Accepted(BaseModel):
    event_id: str
    event_type: str
    status: str = "accepted"


def _endpoint(route: IntakeRoute, publisher: IntakePublisher) -> Callable[..., Awaitable[Accepted]]:
    async def post(
        network_id: NetworkId, site_id: SiteId, body: ContractModel, response: Response
    ) -> Accepted:
        refused = route.kind.identity_errors(body)
        if refused:  # pydantic's own shape, so that clients read one kind of 422
            raise RequestValidationError(
                [
                    {"type": "value_error", "loc": ("body", name), "msg": why}
                    for name, why in refused
                ]
            )
        intake = Intake(network_id=network_id, site_id=site_id, channel="api")
        outcome = await publisher.accept(route.kind, intake, body)
        if outcome.duplicate:
            response.status_code = status.HTTP_200_OK
        return Accepted(
            event_id=outcome.event.id, event_type=outcome.event.type, status=outcome.status
        )

    # FastAPI validates and documents the body after its annotation: this kind's contract.
    post.__annotations__ = {**post.__annotations__, "body": route.kind.data_class}
    return post


def intake_router(publisher: IntakePublisher, gate: Gate) -> APIRouter:
    router = APIRouter(
        prefix="/v1/networks/{network_id}/sites/{site_id}",
        tags=["intake"],
        dependencies=[Depends(gate.dependency())],
    )
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "Duplicate: already accepted, not published again."},
        **COMMON_RESPONSES,
    }
    for route in INTAKE_ROUTES:
        router.add_api_route(
            f"/{route.slug}",
            _endpoint(route, publisher),
            methods=["POST"],
            status_code=status.HTTP_202_ACCEPTED,
            responses=responses,
            name=route.operation,
            description=route.description,
        )
    return router
