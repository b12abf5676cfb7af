"""Improvement actions (indicator 32): create (by hand, from a case or a meeting), read,
edit, move on, comment, evaluate."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from boucle_actions.api.common import (
    ID_PATTERN,
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
from boucle_actions.domain.actions import Action, ActionDetails, Actor, StakeholderNotice
from boucle_actions.usecases.actions import ActionWorkflow, Origin
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.common import utc_now
from boucle_actions.usecases.meetings import MeetingWorkflow
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, KpiTarget, Priority, SourceRef
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_runtime.auth import Principal


class ActionCreateRequest(ActionDetails):
    request_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description=(
            "Makes the creation idempotent for its site: sent again, it returns the action it "
            "made; already used for another site, 409."
        ),
    )
    site_id: str | None = Field(default=None, pattern=ID_PATTERN)
    programme_id: str | None = Field(default=None, pattern=ID_PATTERN)
    trainer_id: str | None = Field(default=None, pattern=ID_PATTERN)
    case_id: str | None = Field(default=None, pattern=ID_PATTERN, description="From a case.")
    meeting_id: str | None = Field(default=None, pattern=ID_PATTERN, description="From a meeting.")
    sources: tuple[SourceRef, ...] = ()
    draft: bool = False
    occurred_at: OccurredAt = None


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
    occurred_at: OccurredAt = None


class ActionTransitionRequest(BaseModel):
    to: ActionStatus
    expected_revision: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=20_000)
    occurred_at: OccurredAt = None


class CommentRequest(BaseModel):
    expected_revision: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=5_000)
    occurred_at: OccurredAt = None


class EvaluationRequest(BaseModel):
    occurred_at: OccurredAt = None


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
        action = await actions.create(
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
            occurred_at=body.occurred_at,
        )
        # A replayed request_id found an action of the same site (checked by the workflow),
        # which the caller may write and so read; checked again so that it stays true.
        readable(caller, action.site_id, action.created_at)
        return action

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
        changes = body.model_dump(exclude_unset=True, exclude={"expected_revision", "occurred_at"})
        return await actions.update(
            action,
            changes,
            actor=actor_of(caller),
            expected_revision=body.expected_revision,
            occurred_at=body.occurred_at,
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
            actor=Actor(actor_of(caller), may_validate=caller.may_validate),
            expected_revision=body.expected_revision,
            note=body.note,
            occurred_at=body.occurred_at,
        )

    @router.post("/actions/{action_id}/comments")
    async def comment_action(
        network_id: NetworkId, action_id: EntityId, body: CommentRequest, caller: caller_t
    ) -> Action:
        action = await writable(network_id, action_id, caller)
        return await actions.comment(
            action,
            body.text,
            actor=actor_of(caller),
            expected_revision=body.expected_revision,
            occurred_at=body.occurred_at,
        )

    @router.post("/actions/{action_id}/evaluation")
    async def evaluate_action(
        network_id: NetworkId,
        action_id: EntityId,
        caller: caller_t,
        body: EvaluationRequest | None = None,
    ) -> Action:
        """Measure the effect: KPI before vs after, from the analyzer's figures; dated now,
        or ``occurred_at`` for an evaluation recorded after the fact. No body: now."""
        action = await writable(network_id, action_id, caller)
        return await actions.evaluate(
            action, occurred_at=body.occurred_at if body is not None else None
        )

    return router
