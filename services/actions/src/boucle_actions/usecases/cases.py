"""Complaint and incident cases (indicator 31): transitions by people, overdue deadlines
announced by the sweep, links to the actions made from them."""

from __future__ import annotations

from datetime import datetime

from boucle_actions.domain.cases import Case, missed_deadlines, transition_case
from boucle_actions.domain.chronology import act_time
from boucle_actions.domain.ports import CaseStore, ConflictError
from boucle_actions.metrics import ActionsMetrics
from boucle_actions.usecases.common import Clock, event_id, load, utc_now
from boucle_actions.usecases.outbox import Relay
from boucle_contracts.cases.v1 import (
    CaseStatus,
    ComplaintCaseOverdue,
    ComplaintCaseOverdueV1,
    ComplaintCaseTransitionedV1,
)


class CaseWorkflow:
    def __init__(
        self, *, cases: CaseStore, relay: Relay, metrics: ActionsMetrics, clock: Clock = utc_now
    ) -> None:
        self.cases = cases
        self._relay = relay
        self._metrics = metrics
        self._clock = clock

    async def get(self, network_id: str, case_id: str) -> Case:
        return await load(self.cases, network_id, case_id, "case")

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
        occurred_at: datetime | None = None,
    ) -> Case:
        """``occurred_at``: when it happened, if recorded after the fact (else now)."""
        if expected_revision != case.revision:
            raise ConflictError(f"the case is at revision {case.revision}, not {expected_revision}")
        now = self._clock()
        at = act_time(
            occurred_at, now=now, not_before=case.last_act, what="the case's last recorded act"
        )
        moved, data = transition_case(
            case,
            to,
            actor=actor,
            at=at,
            note=note,
            answer=answer,
            root_cause=root_cause,
            recorded_at=now,
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
