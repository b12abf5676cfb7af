"""Cases (indicator 31) and the network's deadlines for new cases."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from boucle_actions.api.common import (
    CurrentPrincipal,
    EntityId,
    Limit,
    NetworkId,
    OccurredAt,
    Offset,
    OptionalId,
    Page,
    actor_of,
    paged,
    readable,
)
from boucle_actions.domain.cases import Case, deadlines_of
from boucle_actions.domain.ports import DeadlineSettings
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.common import utc_now
from boucle_contracts.cases.v1 import CaseSource, CaseStatus
from boucle_runtime.auth import Principal, Role


class CaseTransitionRequest(BaseModel):
    to: CaseStatus
    expected_revision: int = Field(ge=1, description="The revision the change is based on.")
    note: str | None = Field(default=None, max_length=20_000)
    answer: str | None = Field(
        default=None, max_length=20_000, description="Answer given to the complainant."
    )
    root_cause: str | None = Field(default=None, max_length=20_000)
    occurred_at: OccurredAt = None


class DeadlinesBody(BaseModel):
    acknowledge_within_hours: float = Field(gt=0, le=24 * 60)
    answer_within_days: float = Field(gt=0, le=365)


def case_router(
    *, cases: CaseWorkflow, deadlines: DeadlineSettings, principal: CurrentPrincipal
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["cases"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.get("/cases")
    async def list_cases(
        network_id: NetworkId,
        caller: caller_t,
        *,
        site_id: OptionalId = None,
        status: CaseStatus | None = None,
        source: CaseSource | None = None,
        overdue: bool = False,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[Case]:
        """Complaint and incident cases, newest first, filtered and paginated."""
        return await paged(
            cases.cases,
            caller,
            network_id,
            site_id=site_id,
            offset=offset,
            limit=limit,
            status=status.value if status else None,
            source=source.value if source else None,
            overdue_at=utc_now() if overdue else None,
        )

    @router.get("/cases/{case_id}")
    async def get_case(network_id: NetworkId, case_id: EntityId, caller: caller_t) -> Case:
        caller.require_network(network_id)
        case = await cases.get(network_id, case_id)
        readable(caller, case.site_id, case.opened_at)
        return case

    @router.post("/cases/{case_id}/transitions")
    async def transition_case(
        network_id: NetworkId, case_id: EntityId, body: CaseTransitionRequest, caller: caller_t
    ) -> Case:
        """Move the case on (acknowledged, analysed, answered, closed, escalated…)."""
        caller.require_network(network_id)
        case = await cases.get(network_id, case_id)
        caller.require_write(case.site_id)
        return await cases.transition(
            case,
            body.to,
            actor=actor_of(caller),
            expected_revision=body.expected_revision,
            note=body.note,
            answer=body.answer,
            root_cause=body.root_cause,
            occurred_at=body.occurred_at,
        )

    @router.get("/settings/deadlines")
    async def get_deadlines(network_id: NetworkId, caller: caller_t) -> DeadlinesBody:
        caller.require_network(network_id)
        current = await deadlines.deadlines_for(network_id=network_id)
        return DeadlinesBody(
            acknowledge_within_hours=current.acknowledge_within.total_seconds() / 3600,
            answer_within_days=current.answer_within.total_seconds() / 86400,
        )

    @router.put("/settings/deadlines")
    async def set_deadlines(
        network_id: NetworkId, body: DeadlinesBody, caller: caller_t
    ) -> DeadlinesBody:
        """The network's deadlines for new cases (quality lead only)."""
        caller.require_network(network_id)
        caller.require_role(Role.QUALITY_LEAD)
        await deadlines.set_deadlines(
            network_id=network_id,
            deadlines=deadlines_of(body.acknowledge_within_hours, body.answer_within_days),
        )
        return body

    return router
