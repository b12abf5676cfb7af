"""Improvement actions (indicator 32): created by hand, from a case or a meeting, drafted
from degradations; edited, moved through their lifecycle, commented and evaluated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boucle_actions.domain.actions import (
    SYSTEM_ACTOR,
    Action,
    ActionDetails,
    Actor,
    action_id_for,
    comment_action,
    draft_from_degradation,
    new_action,
    record_evaluation,
    resolved_note,
    transition_action,
    update_action,
)
from boucle_actions.domain.cases import Case
from boucle_actions.domain.chronology import act_time, latest
from boucle_actions.domain.effectiveness import EvaluationPolicy, evaluate, kpi_scope
from boucle_actions.domain.meetings import Meeting
from boucle_actions.domain.ports import ActionStore, ConflictError, Entities, KpiRepository
from boucle_actions.domain.problem_drafts import (
    draft_from_problem,
    problem_action_id,
    resolution_note,
    retitled,
    update_note,
)
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.common import Clock, check_replay, event_id, load, utc_now
from boucle_actions.usecases.outbox import Relay
from boucle_contracts.actions.v1 import (
    ActionOrigin,
    ActionStatus,
    ImprovementActionCreatedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitioned,
    ImprovementActionTransitionedV1,
    ImprovementActionUpdatedV1,
    SourceRef,
)
from boucle_contracts.problems.v1 import (
    ProblemOpenedV1,
    ProblemResolvedV1,
    ProblemUpdated,
    ProblemUpdatedV1,
)
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_runtime.logging import get_logger

log = get_logger(__name__)


def _transitioned(action: Action, data: ImprovementActionTransitioned) -> AnyEvent:
    return ImprovementActionTransitionedV1.create(
        data=data,
        network_id=action.network_id,
        site_id=action.site_id,
        source="/actions",
        event_id=event_id(action.action_id, data.revision),
        time=data.at,
        subject=f"action/{action.action_id}",
    )


def _updated(
    action: Action, actor: str, at: datetime, fields: tuple[str, ...], recorded_at: datetime
) -> AnyEvent:
    return ImprovementActionUpdatedV1.create(
        data=action.updated_event(actor=actor, at=at, fields=fields, recorded_at=recorded_at),
        network_id=action.network_id,
        site_id=action.site_id,
        source="/actions",
        event_id=event_id(action.action_id, action.revision),
        time=at,
        subject=f"action/{action.action_id}",
    )


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a new action comes from (a case, a meeting, or nothing: by hand)."""

    kind: ActionOrigin = ActionOrigin.MANUAL
    case: Case | None = None
    meeting: Meeting | None = None


class ActionWorkflow:
    def __init__(
        self,
        *,
        actions: ActionStore,
        cases: CaseWorkflow,
        meetings: Entities[Meeting],
        kpis: KpiRepository,
        relay: Relay,
        policy: EvaluationPolicy,
        clock: Clock = utc_now,
    ) -> None:
        self.actions = actions
        self._cases = cases
        self._meetings = meetings
        self._kpis = kpis
        self._relay = relay
        self._policy = policy
        self._clock = clock

    async def get(self, network_id: str, action_id: str) -> Action:
        return await load(self.actions, network_id, action_id, "action")

    async def _store_new(
        self, action: Action, *, causation: AnyEvent | None = None
    ) -> tuple[Action, bool]:
        """The stored action, and whether this call made it."""
        tracing = causation.caused() if causation is not None else {}
        tracing |= {"network_id": action.network_id, "site_id": action.site_id}
        event = ImprovementActionCreatedV1.create(
            data=action.created_event(),
            source="/actions",
            event_id=event_id(action.action_id, "created"),
            time=action.created_at,
            subject=f"action/{action.action_id}",
            **tracing,
        )
        if not await self.actions.insert(action, events=[event]):
            # Made before (a redelivery, a repeated request): the sweep publishes
            # whatever its outbox may still hold.
            return await self.get(action.network_id, action.action_id), False
        await self._relay.flush(self.actions, action.action_id, [event])
        return action, True

    async def create(
        self,
        *,
        network_id: str,
        request_id: str,
        details: ActionDetails,
        scope: Scope,
        actor: str,
        origin: Origin = Origin(),
        sources: tuple[SourceRef, ...] = (),
        draft: bool = False,
        occurred_at: datetime | None = None,
    ) -> Action:
        """A new action, by hand or from a case or a meeting; ``request_id`` makes it
        idempotent for the site it was first used for (another site: RequestIdReusedError,
        before anything is linked). ``occurred_at``: when it was decided, if recorded after
        the fact; not before the case it answers was opened nor the meeting was held."""
        refs = list(sources)
        if origin.case is not None:
            refs.append(SourceRef(kind=origin.case.source.value, ref=origin.case.source_ref))
        if origin.meeting is not None:
            refs.append(SourceRef(kind="meeting", ref=origin.meeting.meeting_id))
        now = self._clock()
        at = act_time(
            occurred_at,
            now=now,
            not_before=latest(
                [
                    origin.case.opened_at if origin.case else None,
                    origin.meeting.held_at if origin.meeting else None,
                ]
            ),
            what="the case or meeting it comes from",
        )
        action = new_action(
            action_id=action_id_for(network_id, request_id),
            details=details,
            scope=scope,
            origin=origin.kind,
            actor=actor,
            at=at,
            recorded_at=now,
            sources=tuple(refs),
            case_ids=(origin.case.case_id,) if origin.case else (),
            meeting_id=origin.meeting.meeting_id if origin.meeting else None,
            status=ActionStatus.DRAFT if draft else ActionStatus.PROPOSED,
        )
        stored, made = await self._store_new(action)
        if not made:
            check_replay(
                stored_site=stored.site_id,
                asked_site=action.site_id,
                request_id=request_id,
                what="an action",
            )
        if origin.case is not None:
            await self._cases.link_action(network_id, origin.case.case_id, stored.action_id)
        if origin.meeting is not None:
            await self._meetings.add_once(
                network_id=network_id,
                entity_id=origin.meeting.meeting_id,
                field="action_ids",
                value=stored.action_id,
            )
        return stored

    async def draft_from(self, event: DegradationDetectedV1) -> tuple[Action, bool]:
        """A draft for a person to accept, with the degradation attached as evidence;
        a redelivered degradation finds the draft it made (False: not made now)."""
        return await self._store_new(
            draft_from_degradation(event.data, at=event.data.detected_at), causation=event
        )

    async def note_resolution(self, event: DegradationResolvedV1) -> Action | None:
        """A degradation is over: say so on the draft it made, if still undecided (once)."""
        resolved = event.data
        action_id = action_id_for("degradation", event.network_id, resolved.degradation_id)
        action = await self.actions.get(network_id=event.network_id, entity_id=action_id)
        if action is None or action.status not in (ActionStatus.DRAFT, ActionStatus.PROPOSED):
            return action
        text = resolved_note(resolved)
        if any(c.text == text for c in action.comments):
            return action
        return await self.comment(
            action,
            text,
            actor=SYSTEM_ACTOR,
            expected_revision=action.revision,
            occurred_at=self._data_time(action, resolved.resolved_at),
        )

    async def draft_from_problem(self, event: ProblemOpenedV1) -> tuple[Action, bool]:
        """One draft per problem, its figures, tests and comments attached as evidence; a
        redelivered problem finds the draft it made (False: not made now)."""
        return await self._store_new(
            draft_from_problem(event.data, at=event.data.detected_at), causation=event
        )

    async def note_problem(self, event: ProblemUpdatedV1 | ProblemResolvedV1) -> Action | None:
        """A problem changed (degradations joined or left) or is over: say so once on the
        draft it made, while nobody has decided yet."""
        data = event.data
        moment = data.updated_at if isinstance(data, ProblemUpdated) else data.resolved_at
        action_id = problem_action_id(event.network_id, data.problem_id)
        action = await self.actions.get(network_id=event.network_id, entity_id=action_id)
        if action is None or action.status not in (ActionStatus.DRAFT, ActionStatus.PROPOSED):
            return action
        if isinstance(data, ProblemUpdated) and action.status is ActionStatus.DRAFT:
            # still nobody's: its title and description follow the problem (sites joining)
            changes = retitled(action, data)
            if changes:
                action = await self.update(
                    action,
                    changes,
                    actor=SYSTEM_ACTOR,
                    expected_revision=action.revision,
                    occurred_at=self._data_time(action, moment),
                )
        text = update_note(data) if isinstance(data, ProblemUpdated) else resolution_note(data)
        if any(c.text == text for c in action.comments):
            return action
        return await self.comment(
            action,
            text,
            actor=SYSTEM_ACTOR,
            expected_revision=action.revision,
            occurred_at=self._data_time(action, moment),
        )

    def _data_time(self, action: Action, moment: datetime) -> datetime | None:
        """When the analyzer saw a change (data time), as the date of the note it leaves:
        never before the draft nor after now; None (now) when the draft itself is dated
        after now. A handler must not refuse its event."""
        now = self._clock()
        at = max(action.created_at, min(moment, now))
        return at if at <= now else None

    async def _save(self, before: Action, after: Action, events: Sequence[AnyEvent]) -> Action:
        await self.actions.save(after, expected_revision=before.revision, events=events)
        if events:
            await self._relay.flush(self.actions, after.action_id, events)
        return after

    @staticmethod
    def _check(action: Action, expected_revision: int) -> None:
        if expected_revision != action.revision:
            raise ConflictError(
                f"the action is at revision {action.revision}, not {expected_revision}"
            )

    async def transition(
        self,
        action: Action,
        to: ActionStatus,
        *,
        actor: Actor,
        expected_revision: int,
        note: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Action:
        """``occurred_at``: when it happened, if recorded after the fact (else now)."""
        self._check(action, expected_revision)
        now = self._clock()
        moved, data = transition_action(
            action,
            to,
            actor=actor,
            at=self._act_time(action, occurred_at, now),
            note=note,
            evaluation_window=self._policy.window,
            recorded_at=now,
        )
        return await self._save(action, moved, [_transitioned(action, data)])

    def _act_time(
        self, action: Action, occurred_at: datetime | None, now: datetime, *, edit: bool = False
    ) -> datetime:
        """An act's date: ``occurred_at`` if given (not in the future, not before the last
        act; an edit or a comment only not before the creation), else now."""
        if edit:
            return act_time(
                occurred_at, now=now, not_before=action.created_at, what="the action's creation"
            )
        return act_time(
            occurred_at, now=now, not_before=action.last_act, what="the action's last recorded act"
        )

    async def update(
        self,
        action: Action,
        changes: dict[str, Any],
        *,
        actor: str,
        expected_revision: int,
        occurred_at: datetime | None = None,
    ) -> Action:
        self._check(action, expected_revision)
        now = self._clock()
        at = self._act_time(action, occurred_at, now, edit=True)
        updated = update_action(action, changes, actor=actor, at=at, recorded_at=now)
        return await self._save(
            action, updated, [_updated(updated, actor, at, tuple(sorted(changes)), now)]
        )

    async def comment(
        self,
        action: Action,
        text: str,
        *,
        actor: str,
        expected_revision: int,
        occurred_at: datetime | None = None,
    ) -> Action:
        self._check(action, expected_revision)
        now = self._clock()
        at = self._act_time(action, occurred_at, now, edit=True)
        commented = comment_action(action, text, actor=actor, at=at, recorded_at=now)
        return await self._save(
            action, commented, [_updated(commented, actor, at, ("comments",), now)]
        )

    async def evaluate(self, action: Action, *, occurred_at: datetime | None = None) -> Action:
        """Measure the effect (on demand, or from the sweep once the window has passed);
        ``occurred_at``: when the evaluation was made, if recorded after the fact."""
        now = self._clock()
        at = self._act_time(action, occurred_at, now)
        snapshots = await self._kpis.snapshots_for(
            network_id=action.network_id, scope_key=kpi_scope(action).key()
        )
        evaluation, data = evaluate(action, snapshots, policy=self._policy, at=at)
        data = data.model_copy(update={"recorded_at": now})
        evaluated, transitions = record_evaluation(
            action, evaluation, next_evaluation=at + self._policy.window, recorded_at=now
        )
        events: list[AnyEvent] = [
            ImprovementActionEvaluatedV1.create(
                data=data,
                network_id=action.network_id,
                site_id=action.site_id,
                source="/actions",
                event_id=event_id(action.action_id, action.revision, "evaluated"),
                time=at,
                subject=f"action/{action.action_id}",
            ),
            *(_transitioned(action, t) for t in transitions),
        ]
        log.info("action_evaluated", action_id=action.action_id, outcome=evaluation.outcome)
        return await self._save(action, evaluated, events)

    async def sweep_evaluations(self) -> int:
        """Evaluate the done actions whose window has passed in data time: once the
        analyzer's figures reach the window's end, dated when they did (never after now).
        Live, that is now; weeks replayed after the fact evaluate each action when its
        weeks are in, not all at once on the first sweep."""
        now, evaluated = self._clock(), 0
        if not self._policy.automatic:
            return 0  # people evaluate (e.g. a replay whose people are simulated)
        data_time: dict[str, datetime | None] = {}
        for action in await self.actions.due_for_evaluation(now):
            network = action.network_id
            if network not in data_time:
                data_time[network] = await self._kpis.data_until(network_id=network)
            until = data_time[network]
            if until is None or action.evaluate_after is None or until < action.evaluate_after:
                continue  # the window's figures are not all in yet
            at = max(action.last_act, min(now, until))
            try:
                await self.evaluate(action, occurred_at=at)
            except ConflictError:
                continue  # changed meanwhile: the next sweep sees the new state
            evaluated += 1
        return evaluated
