"""What people and loops do with cases, actions and meetings: load, decide (domain), store
with the events it caused, publish. Shared by the HTTP API, the handlers and the loops.

Events are stored in the entity's outbox by the same atomic write as the change, then
published and removed: a crash in between leaves them in the outbox, and the relay loop
publishes them again with the same deterministic ids, so downstream sees each once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

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
    transition_action,
    update_action,
)
from boucle_actions.domain.cases import Case, missed_deadlines, transition_case
from boucle_actions.domain.effectiveness import EvaluationPolicy, evaluate, kpi_scope
from boucle_actions.domain.meetings import Meeting, MeetingRecord, meeting_id_for, recorded_event
from boucle_actions.domain.ports import (
    ActionStore,
    CaseStore,
    ConflictError,
    Entities,
    KpiRepository,
)
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts.actions.v1 import (
    ActionOrigin,
    ActionStatus,
    AnalysisMeetingRecordedV1,
    ImprovementActionCreatedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitioned,
    ImprovementActionTransitionedV1,
    ImprovementActionUpdatedV1,
    SourceRef,
)
from boucle_contracts.cases.v1 import (
    CaseStatus,
    ComplaintCaseOverdue,
    ComplaintCaseOverdueV1,
    ComplaintCaseTransitionedV1,
)
from boucle_contracts.registry import AnyEvent, decode_event
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
EVENT_NAMESPACE = uuid.UUID("9b2e7c41-6d3a-5f18-a0c4-7e8f9a1b2c3d")
Clock = Callable[[], datetime]
E = TypeVar("E")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def event_id(*parts: object) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, "/".join(str(p) for p in parts)))


class NotFoundError(LookupError):
    """No such entity in this network (HTTP 404)."""


@dataclass
class Relay:
    """Publishes what an entity's outbox holds, then removes it."""

    publisher: EventSink

    async def flush(self, store: Entities[Any], entity_id: str, events: Sequence[AnyEvent]) -> None:
        for event in events:
            await self.publisher.publish(event)
        await store.published(
            entity_id=entity_id, events=[e.to_json_bytes().decode() for e in events]
        )

    async def drain(self, store: Entities[Any]) -> int:
        """Publish every outbox left behind (crash between write and publish)."""
        sent = 0
        for entity_id, wire in await store.pending():
            for raw in wire:
                await self.publisher.publish(decode_event(raw.encode()))
            await store.published(entity_id=entity_id, events=wire)
            sent += len(wire)
        return sent


async def _load(store: Entities[E], network_id: str, entity_id: str, what: str) -> E:
    found = await store.get(network_id=network_id, entity_id=entity_id)
    if found is None:
        raise NotFoundError(f"no {what} {entity_id!r} in network {network_id!r}")
    return found


class CaseWorkflow:
    def __init__(
        self, *, cases: CaseStore, relay: Relay, metrics: ActionsMetrics, clock: Clock = utc_now
    ) -> None:
        self.cases = cases
        self._relay = relay
        self._metrics = metrics
        self._clock = clock

    async def get(self, network_id: str, case_id: str) -> Case:
        return await _load(self.cases, network_id, case_id, "case")

    async def transition(
        self,
        case: Case,
        to: CaseStatus,
        *,
        actor: str,
        expected_revision: int,
        note: str | None = None,
        answer: str | None = None,
        root_cause: str | None = None,
    ) -> Case:
        if expected_revision != case.revision:
            raise ConflictError(f"the case is at revision {case.revision}, not {expected_revision}")
        at = self._clock()
        moved, data = transition_case(
            case, to, actor=actor, at=at, note=note, answer=answer, root_cause=root_cause
        )
        event = ComplaintCaseTransitionedV1.create(
            data=data,
            network_id=case.network_id,
            site_id=case.site_id,
            source="/actions/cases",
            event_id=event_id(case.case_id, moved.revision),
            time=at,
            subject=f"case/{case.case_id}",
        )
        await self.cases.save(moved, expected_revision=case.revision, events=[event])
        if case.acknowledged_at is None and moved.acknowledged_at is not None:
            self._metrics.time_to_acknowledge.observe((at - case.opened_at).total_seconds())
        if case.answered_at is None and moved.answered_at is not None:
            self._metrics.time_to_answer.observe((at - case.opened_at).total_seconds())
        await self._relay.flush(self.cases, case.case_id, [event])
        return moved

    async def link_action(self, network_id: str, case_id: str, action_id: str) -> None:
        await self.cases.add_once(
            network_id=network_id, entity_id=case_id, field="action_ids", value=action_id
        )

    async def sweep_overdue(self) -> int:
        """Announce each missed deadline once (one event per case and deadline)."""
        now, announced = self._clock(), 0
        for case in await self.cases.overdue_candidates(now):
            for missed in missed_deadlines(case, now):
                event = _overdue_event(case, missed)
                if await self.cases.add_once(
                    network_id=case.network_id,
                    entity_id=case.case_id,
                    field="overdue",
                    value=missed.deadline,
                    events=[event],
                ):
                    self._metrics.deadline_breaches.labels(missed.deadline).inc()
                    await self._relay.flush(self.cases, case.case_id, [event])
                    announced += 1
        return announced


def _overdue_event(case: Case, missed: ComplaintCaseOverdue) -> ComplaintCaseOverdueV1:
    return ComplaintCaseOverdueV1.create(
        data=missed,
        network_id=case.network_id,
        site_id=case.site_id,
        source="/actions/cases",
        event_id=event_id(case.case_id, "overdue", missed.deadline),
        time=missed.detected_at,
        subject=f"case/{case.case_id}",
    )


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


def _updated(action: Action, actor: str, at: datetime, fields: tuple[str, ...]) -> AnyEvent:
    return ImprovementActionUpdatedV1.create(
        data=action.updated_event(actor=actor, at=at, fields=fields),
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
        return await _load(self.actions, network_id, action_id, "action")

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
            # Made before (a redelivery, a repeated request): the relay loop publishes
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
    ) -> Action:
        """A new action, by hand or from a case or a meeting; ``request_id`` makes it idempotent."""
        refs = list(sources)
        if origin.case is not None:
            refs.append(SourceRef(kind=origin.case.source.value, ref=origin.case.source_ref))
        if origin.meeting is not None:
            refs.append(SourceRef(kind="meeting", ref=origin.meeting.meeting_id))
        action = new_action(
            action_id=action_id_for(network_id, request_id),
            details=details,
            scope=scope,
            origin=origin.kind,
            actor=actor,
            at=self._clock(),
            sources=tuple(refs),
            case_ids=(origin.case.case_id,) if origin.case else (),
            meeting_id=origin.meeting.meeting_id if origin.meeting else None,
            status=ActionStatus.DRAFT if draft else ActionStatus.PROPOSED,
        )
        stored, _ = await self._store_new(action)
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
        text = (
            f"Dégradation {resolved.degradation_id} résolue le "
            f"{resolved.resolved_at.date().isoformat()} : {resolved.metric.value} à "
            f"{resolved.current.value:.2f} (n = {resolved.current.sample_size})."
        )
        if any(c.text == text for c in action.comments):
            return action
        return await self.comment(
            action, text, actor=SYSTEM_ACTOR, expected_revision=action.revision
        )

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
    ) -> Action:
        self._check(action, expected_revision)
        moved, data = transition_action(
            action,
            to,
            actor=actor,
            at=self._clock(),
            note=note,
            evaluation_window=self._policy.window,
        )
        return await self._save(action, moved, [_transitioned(action, data)])

    async def update(
        self, action: Action, changes: dict[str, Any], *, actor: str, expected_revision: int
    ) -> Action:
        self._check(action, expected_revision)
        at = self._clock()
        updated = update_action(action, changes, actor=actor, at=at)
        return await self._save(
            action, updated, [_updated(updated, actor, at, tuple(sorted(changes)))]
        )

    async def comment(
        self, action: Action, text: str, *, actor: str, expected_revision: int
    ) -> Action:
        self._check(action, expected_revision)
        at = self._clock()
        commented = comment_action(action, text, actor=actor, at=at)
        return await self._save(action, commented, [_updated(commented, actor, at, ("comments",))])

    async def evaluate(self, action: Action) -> Action:
        """Measure the effect now (on demand, or from the loop once the window has passed)."""
        at = self._clock()
        snapshots = await self._kpis.snapshots_for(
            network_id=action.network_id, scope_key=kpi_scope(action).key()
        )
        evaluation, data = evaluate(action, snapshots, policy=self._policy, at=at)
        evaluated, transitions = record_evaluation(
            action, evaluation, next_evaluation=at + self._policy.window
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
        evaluated = 0
        for action in await self.actions.due_for_evaluation(self._clock()):
            try:
                await self.evaluate(action)
            except ConflictError:
                continue  # changed meanwhile: the next sweep sees the new state
            evaluated += 1
        return evaluated


class MeetingWorkflow:
    def __init__(
        self, *, meetings: Entities[Meeting], relay: Relay, clock: Clock = utc_now
    ) -> None:
        self.meetings = meetings
        self._relay = relay
        self._clock = clock

    async def record(
        self, *, network_id: str, request_id: str, record: MeetingRecord, actor: str
    ) -> Meeting:
        meeting = Meeting(
            **record.model_dump(include=set(MeetingRecord.model_fields)),
            meeting_id=meeting_id_for(network_id, request_id),
            network_id=network_id,
            recorded_by=actor,
            recorded_at=self._clock(),
        )
        event = AnalysisMeetingRecordedV1.create(
            data=recorded_event(meeting),
            network_id=network_id,
            site_id=meeting.site_id,
            source="/actions/meetings",
            event_id=event_id(meeting.meeting_id, "recorded"),
            time=meeting.recorded_at,
            subject=f"meeting/{meeting.meeting_id}",
        )
        if not await self.meetings.insert(meeting, events=[event]):
            return await self.get(network_id, meeting.meeting_id)
        await self._relay.flush(self.meetings, meeting.meeting_id, [event])
        return meeting

    async def get(self, network_id: str, meeting_id: str) -> Meeting:
        return await _load(self.meetings, network_id, meeting_id, "meeting")


def network_scope(network_id: str, site_id: str | None) -> Scope:
    if site_id is None:
        return Scope(level=ScopeLevel.NETWORK, network_id=network_id)
    return Scope(level=ScopeLevel.SITE, network_id=network_id, site_id=site_id)
