"""HTTP API of the actions service: cases, improvement actions, meetings, KPIs.

Every route needs a bearer token (boucle_runtime.auth) and checks it against the network in
the path, then against the site of what it reads or writes; the repositories filter every
query by network as well. 401: no valid token; 403: a valid token without the right;
404: nothing of that id in this network; 409: a stale revision or a refused transition.
"""

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from boucle_actions.domain.actions import Action, ActionDetails, Actor, StakeholderNotice
from boucle_actions.domain.cases import Case, TransitionRefusedError, deadlines_of
from boucle_actions.domain.meetings import Meeting, MeetingRecord
from boucle_actions.domain.ports import ConflictError, DeadlineSettings, KpiRepository
from boucle_actions.domain.ports import Query as Listing
from boucle_actions.usecases import (
    ActionWorkflow,
    CaseWorkflow,
    MeetingWorkflow,
    NotFoundError,
    Origin,
    utc_now,
)
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, KpiTarget, Priority, SourceRef
from boucle_contracts.cases.v1 import CaseSource, CaseStatus
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_runtime.auth import AccessDeniedError, Principal, Role

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN)]
EntityId = Annotated[str, Path(pattern=ID_PATTERN)]
OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN)]
# Bounded: MongoDB's skip takes at most a 64-bit int, and a larger one was a 500.
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
T = TypeVar("T")
CurrentPrincipal = Callable[..., Awaitable[Principal]]


class Searchable(Protocol[T]):
    async def search(self, query: Listing) -> tuple[list[T], int]: ...


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class CaseTransitionRequest(BaseModel):
    to: CaseStatus
    expected_revision: int = Field(ge=1, description="The revision the change is based on.")
    note: str | None = Field(default=None, max_length=20_000)
    answer: str | None = Field(
        default=None, max_length=20_000, description="Answer given to the complainant."
    )
    root_cause: str | None = Field(default=None, max_length=20_000)


class ActionCreateRequest(ActionDetails):
    request_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Makes the creation idempotent."
    )
    site_id: str | None = Field(default=None, pattern=ID_PATTERN)
    programme_id: str | None = Field(default=None, pattern=ID_PATTERN)
    trainer_id: str | None = Field(default=None, pattern=ID_PATTERN)
    case_id: str | None = Field(default=None, pattern=ID_PATTERN, description="From a case.")
    meeting_id: str | None = Field(default=None, pattern=ID_PATTERN, description="From a meeting.")
    sources: tuple[SourceRef, ...] = ()
    draft: bool = False


class ActionPatch(BaseModel):
    """Fields to change; those left out stay as they are."""

    expected_revision: int = Field(ge=1)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    problem: str | None = Field(default=None, min_length=1, max_length=20_000)
    root_cause_analysis: str | None = Field(default=None, max_length=20_000)
    objective: str | None = Field(default=None, max_length=2_000)
    kpi: KpiTarget | None = None
    measures: tuple[str, ...] | None = None
    owner: str | None = Field(default=None, pattern=ID_PATTERN)
    contributors: tuple[str, ...] | None = None
    due_date: date | None = None
    resources: str | None = Field(default=None, max_length=2_000)
    priority: Priority | None = None
    stakeholders_informed: tuple[StakeholderNotice, ...] | None = None
    documents: tuple[str, ...] | None = None


class ActionTransitionRequest(BaseModel):
    to: ActionStatus
    expected_revision: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=20_000)


class CommentRequest(BaseModel):
    expected_revision: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=5_000)


class MeetingRequest(MeetingRecord):
    request_id: str | None = Field(default=None, pattern=ID_PATTERN)


class DeadlinesBody(BaseModel):
    acknowledge_within_hours: float = Field(gt=0, le=24 * 60)
    answer_within_days: float = Field(gt=0, le=365)


_ACTOR = re.compile(ID_PATTERN)


def actor_of(principal: Principal) -> str:
    """The token's subject as an event actor id (hashed when it is not id-safe, e.g. a|b)."""
    if _ACTOR.match(principal.subject):
        return principal.subject
    return f"sub-{hashlib.sha256(principal.subject.encode()).hexdigest()[:24]}"


async def paged(
    store: Searchable[T],
    principal: Principal,
    network_id: str,
    *,
    site_id: str | None,
    offset: int,
    limit: int,
    **filters: Any,
) -> Page[T]:
    """One page of a listing limited to what the caller may see: sites, the auditor's period."""
    principal.require_network(network_id)
    query = Listing(
        network_id=network_id,
        site_ids=principal.site_filter(site_id),
        include_network_wide=site_id is None and principal.role is not Role.SITE_MANAGER,
        recorded_from=principal.period_start,
        recorded_to=principal.period_end,
        offset=offset,
        limit=limit,
        **filters,
    )
    items, total = await store.search(query)
    return Page(items=items, total=total, offset=offset, limit=limit)


def readable(principal: Principal, site_id: str | None, recorded: datetime) -> None:
    principal.require_site(site_id)
    if not principal.in_period(recorded):
        raise AccessDeniedError("outside the period this token may audit")


def may_read(principal: Principal, site_id: str | None) -> bool:
    try:
        principal.require_site(site_id)
    except AccessDeniedError:
        return False
    return True


def scope_of(network_id: str, body: ActionCreateRequest) -> Scope:
    if body.trainer_id:
        level = ScopeLevel.TRAINER
    elif body.programme_id:
        level = ScopeLevel.PROGRAMME
    elif body.site_id:
        level = ScopeLevel.SITE
    else:
        level = ScopeLevel.NETWORK
    return Scope(
        level=level,
        network_id=network_id,
        site_id=body.site_id,
        programme_id=body.programme_id,
        trainer_id=body.trainer_id,
    )


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


def action_router(
    *,
    actions: ActionWorkflow,
    cases: CaseWorkflow,
    meetings: MeetingWorkflow,
    principal: CurrentPrincipal,
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["actions"])
    caller_t = Annotated[Principal, Depends(principal)]

    async def writable(network_id: str, action_id: str, caller: Principal) -> Action:
        caller.require_network(network_id)
        action = await actions.get(network_id, action_id)
        caller.require_write(action.site_id)
        return action

    @router.get("/actions")
    async def list_actions(
        network_id: NetworkId,
        caller: caller_t,
        *,
        site_id: OptionalId = None,
        status: ActionStatus | None = None,
        owner: OptionalId = None,
        source: ActionOrigin | None = None,
        overdue: bool = False,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[Action]:
        """Improvement actions, newest first, filtered and paginated."""
        return await paged(
            actions.actions,
            caller,
            network_id,
            site_id=site_id,
            offset=offset,
            limit=limit,
            status=status.value if status else None,
            owner=owner,
            source=source.value if source else None,
            overdue_at=utc_now() if overdue else None,
        )

    @router.post("/actions", status_code=201)
    async def create_action(
        network_id: NetworkId, body: ActionCreateRequest, caller: caller_t
    ) -> Action:
        """By hand, from a case (``case_id``) or from a meeting (``meeting_id``)."""
        caller.require_network(network_id)
        caller.require_write(body.site_id)
        origin = Origin()
        if body.case_id:
            case = await cases.get(network_id, body.case_id)
            caller.require_write(case.site_id)
            origin = Origin(kind=ActionOrigin.COMPLAINT_CASE, case=case)
        elif body.meeting_id:
            meeting = await meetings.get(network_id, body.meeting_id)
            caller.require_write(meeting.site_id)
            origin = Origin(kind=ActionOrigin.MEETING, meeting=meeting)
        return await actions.create(
            network_id=network_id,
            request_id=body.request_id or str(uuid.uuid4()),
            details=ActionDetails.model_validate(
                body.model_dump(include=set(ActionDetails.model_fields))
            ),
            scope=scope_of(network_id, body),
            actor=actor_of(caller),
            origin=origin,
            sources=body.sources,
            draft=body.draft,
        )

    @router.get("/actions/{action_id}")
    async def get_action(network_id: NetworkId, action_id: EntityId, caller: caller_t) -> Action:
        caller.require_network(network_id)
        action = await actions.get(network_id, action_id)
        readable(caller, action.site_id, action.created_at)
        return action

    @router.patch("/actions/{action_id}")
    async def update_action(
        network_id: NetworkId, action_id: EntityId, body: ActionPatch, caller: caller_t
    ) -> Action:
        """Edit fields (title, measures, owner, due date…); recorded in the history."""
        action = await writable(network_id, action_id, caller)
        changes = body.model_dump(exclude_unset=True, exclude={"expected_revision"})
        return await actions.update(
            action, changes, actor=actor_of(caller), expected_revision=body.expected_revision
        )

    @router.post("/actions/{action_id}/transitions")
    async def transition_action(
        network_id: NetworkId, action_id: EntityId, body: ActionTransitionRequest, caller: caller_t
    ) -> Action:
        """Move the action on; validating needs a quality lead (management)."""
        action = await writable(network_id, action_id, caller)
        return await actions.transition(
            action,
            body.to,
            actor=Actor(actor_of(caller), may_validate=caller.role is Role.QUALITY_LEAD),
            expected_revision=body.expected_revision,
            note=body.note,
        )

    @router.post("/actions/{action_id}/comments")
    async def comment_action(
        network_id: NetworkId, action_id: EntityId, body: CommentRequest, caller: caller_t
    ) -> Action:
        action = await writable(network_id, action_id, caller)
        return await actions.comment(
            action, body.text, actor=actor_of(caller), expected_revision=body.expected_revision
        )

    @router.post("/actions/{action_id}/evaluation")
    async def evaluate_action(
        network_id: NetworkId, action_id: EntityId, caller: caller_t
    ) -> Action:
        """Measure the effect now: KPI before vs after, from the analyzer's figures."""
        action = await writable(network_id, action_id, caller)
        return await actions.evaluate(action)

    @router.get("/meetings")
    async def list_meetings(
        network_id: NetworkId,
        caller: caller_t,
        *,
        site_id: OptionalId = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[Meeting]:
        return await paged(
            meetings.meetings, caller, network_id, site_id=site_id, offset=offset, limit=limit
        )

    @router.post("/meetings", status_code=201)
    async def record_meeting(
        network_id: NetworkId, body: MeetingRequest, caller: caller_t
    ) -> Meeting:
        """An analysis meeting: date, attendees, data looked at, decisions."""
        caller.require_network(network_id)
        caller.require_write(body.site_id)
        return await meetings.record(
            network_id=network_id,
            request_id=body.request_id or str(uuid.uuid4()),
            record=MeetingRecord.model_validate(body.model_dump(exclude={"request_id"})),
            actor=actor_of(caller),
        )

    @router.get("/meetings/{meeting_id}")
    async def get_meeting(network_id: NetworkId, meeting_id: EntityId, caller: caller_t) -> Meeting:
        caller.require_network(network_id)
        meeting = await meetings.get(network_id, meeting_id)
        readable(caller, meeting.site_id, meeting.held_at)
        return meeting

    return router


def kpi_router(*, kpis: KpiRepository, principal: CurrentPrincipal) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["kpis"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.get("/kpis")
    async def list_kpis(
        network_id: NetworkId, caller: caller_t, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        """Latest analyzer figures per scope and period, as far as the caller may see."""
        caller.require_network(network_id)
        found = await kpis.snapshots_for(network_id=network_id, scope_key=scope_key)
        return [
            snapshot
            for snapshot in found
            if may_read(caller, snapshot.scope.site_id) and caller.in_period(snapshot.period.start)
        ]

    return router


def install_error_handlers(app: FastAPI) -> None:
    """Domain refusals as HTTP: 404 unknown, 409 stale revision or refused transition, 422 a
    change that leaves an invalid action (e.g. a title set to null), naming the field."""

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ValidationError, invalid)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(TransitionRefusedError, conflict)
