"""Complaint and incident cases (indicator 31): opening, deadlines, lifecycle. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from boucle_contracts.cases.v1 import (
    CaseSource,
    CaseStatus,
    ComplaintCaseOpened,
    ComplaintCaseOverdue,
    ComplaintCaseTransitioned,
)
from boucle_contracts.incidents.v1 import ComplaintReceived, HazardReported, IncidentKind

CASE_ID_NAMESPACE = uuid.UUID("3a9e4c55-2f1b-5e7d-8c6a-1d2e3f405162")


@dataclass(frozen=True, slots=True)
class Deadlines:
    acknowledge_within: timedelta
    answer_within: timedelta


def deadlines_of(acknowledge_within_hours: float, answer_within_days: float) -> Deadlines:
    return Deadlines(timedelta(hours=acknowledge_within_hours), timedelta(days=answer_within_days))


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Default deadlines, and those some networks agreed otherwise (configuration file)."""

    default: Deadlines
    overrides: Mapping[str, Deadlines] = field(default_factory=dict)

    def for_network(self, network_id: str) -> Deadlines:
        return self.overrides.get(network_id, self.default)


def case_id_for(source_event_id: str) -> str:
    """One case per incoming complaint or incident, whatever the redeliveries."""
    return f"case-{uuid.uuid5(CASE_ID_NAMESPACE, source_event_id)}"


def open_complaint_case(
    event_id: str, complaint: ComplaintReceived, deadlines: Deadlines
) -> ComplaintCaseOpened:
    return ComplaintCaseOpened(
        case_id=case_id_for(event_id),
        source=CaseSource.COMPLAINT,
        source_event_id=event_id,
        source_ref=complaint.complaint_id,
        opened_at=complaint.received_at,
        summary=complaint.subject,
        category=complaint.category_hint,
        acknowledge_due_at=complaint.received_at + deadlines.acknowledge_within,
        answer_due_at=complaint.received_at + deadlines.answer_within,
    )


def open_incident_case(
    event_id: str, incident: HazardReported, deadlines: Deadlines
) -> ComplaintCaseOpened:
    """Hazards and difficulties get a case too; only the answer deadline applies to them."""
    return ComplaintCaseOpened(
        case_id=case_id_for(event_id),
        source=CaseSource.HAZARD if incident.kind is IncidentKind.HAZARD else CaseSource.DIFFICULTY,
        source_event_id=event_id,
        source_ref=incident.incident_id,
        opened_at=incident.reported_at,
        summary=incident.summary,
        category=incident.category_hint,
        answer_due_at=incident.reported_at + deadlines.answer_within,
    )


# --- the case's lifecycle ---------------------------------------------------------------

# What may follow what. Escalation (to management) and mediation (a third party, e.g. the
# funder or a mediator) can interrupt the ordinary path; a contested answer reopens mediation.
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.ACKNOWLEDGED, CaseStatus.ESCALATED}),
    CaseStatus.ACKNOWLEDGED: frozenset(
        {CaseStatus.ANALYSED, CaseStatus.ESCALATED, CaseStatus.IN_MEDIATION}
    ),
    CaseStatus.ANALYSED: frozenset(
        {CaseStatus.ANSWERED, CaseStatus.ESCALATED, CaseStatus.IN_MEDIATION}
    ),
    CaseStatus.ESCALATED: frozenset(
        {CaseStatus.ANALYSED, CaseStatus.IN_MEDIATION, CaseStatus.ANSWERED}
    ),
    CaseStatus.IN_MEDIATION: frozenset({CaseStatus.ANALYSED, CaseStatus.ANSWERED}),
    CaseStatus.ANSWERED: frozenset(
        {CaseStatus.CLOSED, CaseStatus.IN_MEDIATION, CaseStatus.ESCALATED}
    ),
    CaseStatus.CLOSED: frozenset(),
}
OPEN_CASE_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}
Deadline = Literal["acknowledge", "answer"]


class TransitionRefusedError(ValueError):
    """A transition the lifecycle or one of its guards does not allow (HTTP 409)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CaseHistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime = Field(description="When the act happened.")
    actor: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    note: str | None = None
    recorded_at: datetime | None = Field(
        default=None, description="When it was recorded, if after the fact (else as ``at``)."
    )


class Case(BaseModel):
    """A complaint or incident case as the service keeps it (the read model of the API)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    network_id: str
    site_id: str | None
    source: CaseSource
    source_ref: str
    summary: str
    category: str | None = None
    opened_at: datetime
    acknowledge_due_at: datetime | None = None
    answer_due_at: datetime | None = None
    status: CaseStatus = CaseStatus.RECEIVED
    revision: int = 1
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    answer: str | None = None
    root_cause: str | None = None
    action_ids: tuple[str, ...] = ()
    overdue: tuple[Deadline, ...] = Field(
        default=(), description="Deadlines missed (each announced once)."
    )
    history: tuple[CaseHistoryEntry, ...] = ()

    @classmethod
    def opened(cls, opened: ComplaintCaseOpened, *, network_id: str, site_id: str | None) -> Case:
        return cls(
            case_id=opened.case_id,
            network_id=network_id,
            site_id=site_id,
            source=opened.source,
            source_ref=opened.source_ref,
            summary=opened.summary,
            category=opened.category,
            opened_at=opened.opened_at,
            acknowledge_due_at=opened.acknowledge_due_at,
            answer_due_at=opened.answer_due_at,
            history=(
                CaseHistoryEntry(
                    at=opened.opened_at,
                    actor="boucle-actions",
                    from_status=None,
                    to_status=CaseStatus.RECEIVED,
                ),
            ),
        )

    @property
    def last_act(self) -> datetime:
        """The date of the last act recorded: an act recorded after the fact is not
        dated before it."""
        return max([self.opened_at, *(entry.at for entry in self.history)])


def transition_case(
    case: Case,
    to: CaseStatus,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
    answer: str | None = None,
    root_cause: str | None = None,
    recorded_at: datetime | None = None,
) -> tuple[Case, ComplaintCaseTransitioned]:
    """The case after ``to``, and the event telling it; refuses what the lifecycle forbids.
    ``at``: when the act happened; ``recorded_at``: when it was recorded, if later."""
    if to not in CASE_TRANSITIONS[case.status]:
        raise TransitionRefusedError(f"a {case.status.value} case cannot become {to.value}")
    root_cause = root_cause or case.root_cause
    answer = answer or (case.answer if to is not CaseStatus.ANSWERED else None)
    if to is CaseStatus.ANALYSED and not root_cause:
        raise TransitionRefusedError("an analysed case needs its root_cause")
    if to is CaseStatus.ANSWERED and not answer:
        raise TransitionRefusedError("an answered case needs the answer given to the complainant")
    if to is CaseStatus.CLOSED and case.answered_at is None:
        raise TransitionRefusedError("a case is closed only once answered")
    changes: dict[str, object] = {
        "status": to,
        "revision": case.revision + 1,
        "root_cause": root_cause,
        "answer": answer,
        "history": (
            *case.history,
            CaseHistoryEntry(
                at=at,
                actor=actor,
                from_status=case.status,
                to_status=to,
                note=note,
                recorded_at=recorded_at,
            ),
        ),
    }
    if case.acknowledged_at is None:  # any step out of "received" takes the case in hand
        changes["acknowledged_at"] = at
    if to is CaseStatus.ANSWERED and case.answered_at is None:
        changes["answered_at"] = at
    if to is CaseStatus.CLOSED:
        changes["closed_at"] = at
    moved = case.model_copy(update=changes)
    event = ComplaintCaseTransitioned(
        case_id=case.case_id,
        from_status=case.status,
        to_status=to,
        at=at,
        actor=actor,
        revision=moved.revision,
        note=note,
        answer=answer if to is CaseStatus.ANSWERED else None,
        root_cause=root_cause,
        action_ids=case.action_ids,
        recorded_at=recorded_at,
    )
    return moved, event


def missed_deadlines(case: Case, now: datetime) -> list[ComplaintCaseOverdue]:
    """Deadlines the case has missed by ``now`` and not yet announced as overdue."""
    missed: list[ComplaintCaseOverdue] = []
    if (
        case.acknowledge_due_at is not None
        and case.acknowledged_at is None
        and now >= case.acknowledge_due_at
        and "acknowledge" not in case.overdue
    ):
        missed.append(
            ComplaintCaseOverdue(
                case_id=case.case_id,
                deadline="acknowledge",
                due_at=case.acknowledge_due_at,
                detected_at=now,
            )
        )
    if (
        case.answer_due_at is not None
        and case.answered_at is None
        and case.status is not CaseStatus.CLOSED
        and now >= case.answer_due_at
        and "answer" not in case.overdue
    ):
        missed.append(
            ComplaintCaseOverdue(
                case_id=case.case_id, deadline="answer", due_at=case.answer_due_at, detected_at=now
            )
        )
    return missed


def is_overdue(case: Case, now: datetime) -> bool:
    """Overdue now: a deadline has passed and its step is still to be done."""
    late_ack = (
        case.acknowledge_due_at is not None
        and case.acknowledged_at is None
        and now >= case.acknowledge_due_at
    )
    late_answer = (
        case.answer_due_at is not None and case.answered_at is None and now >= case.answer_due_at
    )
    return case.status is not CaseStatus.CLOSED and (late_ack or late_answer)
