"""A solicitation: one person asked one survey on one occasion, and what became of it.

Its id is derived from the network, the rule, the person and the occasion, so whatever
the redeliveries of the training events, nobody is asked twice for the same survey. Its
next step is decided from the clock and the rule: send when due, remind at the rule's
delays after sending, expire at the rule's end; an answer or an opt-out stops everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import SurveyKind
from boucle_contracts.solicitations.v1 import ClosingReason

SOLICITATION_NAMESPACE = uuid.UUID("7b0d2c1e-5a43-5f8e-9c21-40f6a8b3d915")


class Status(StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    ANSWERED = "answered"
    CLOSED = "closed"  # expired, opted out, or unreachable: see ``closing_reason``


class StepKind(StrEnum):
    SEND = "send"
    REMIND = "remind"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    reminder: int = 0  # 1 for the first reminder


def solicitation_id_for(network_id: str, rule_id: str, respondent_ref: str, occasion: str) -> str:
    name = "\x1f".join((network_id, rule_id, respondent_ref, occasion))
    return f"sol-{uuid.uuid5(SOLICITATION_NAMESPACE, name)}"


@dataclass(frozen=True, slots=True)
class Solicitation:
    solicitation_id: str
    network_id: str
    site_id: str | None
    plan_version: int
    rule_id: str
    survey_id: str
    survey_kind: SurveyKind
    respondent_role: RespondentRole
    respondent_ref: str
    anonymous: bool
    occasion: str
    training: TrainingRef
    due_at: datetime
    expires_at: datetime
    reminder_days: tuple[int, ...]
    status: Status = Status.PLANNED
    sent_at: datetime | None = None
    reminders_sent: int = 0
    answered_at: datetime | None = None
    response_id: str | None = None
    closing_reason: ClosingReason | None = None
    closed_at: datetime | None = None

    @property
    def was_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def is_open(self) -> bool:
        return self.status in (Status.PLANNED, Status.SENT)

    def next_step(self, now: datetime) -> Step | None:
        """What is due at ``now``, if anything (one step at a time: a late run catches up
        step by step rather than sending a reminder with the invitation)."""
        if not self.is_open:
            return None
        if now >= self.expires_at:
            return Step(StepKind.EXPIRE)
        if self.sent_at is None:
            return Step(StepKind.SEND) if now >= self.due_at else None
        if self.reminders_sent < len(self.reminder_days):
            due = self.sent_at + timedelta(days=self.reminder_days[self.reminders_sent])
            if now >= due:
                return Step(StepKind.REMIND, self.reminders_sent + 1)
        return None

    def next_at(self) -> datetime | None:
        """The earliest moment a step may be due (stored and indexed to find due work)."""
        if not self.is_open:
            return None
        if self.sent_at is None:
            return min(self.due_at, self.expires_at)
        if self.reminders_sent < len(self.reminder_days):
            reminder = self.sent_at + timedelta(days=self.reminder_days[self.reminders_sent])
            return min(reminder, self.expires_at)
        return self.expires_at

    def sent(self, at: datetime) -> Solicitation:
        return replace(self, status=Status.SENT, sent_at=at)

    def reminded(self, reminder: int) -> Solicitation:
        return replace(self, reminders_sent=max(self.reminders_sent, reminder))

    def answered(self, response_id: str, at: datetime) -> Solicitation:
        """An answer closes the solicitation, even a late one (it still counts)."""
        return replace(
            self,
            status=Status.ANSWERED,
            answered_at=at,
            response_id=response_id,
            closing_reason=None,
            closed_at=None,
        )

    def closed(self, reason: ClosingReason, at: datetime) -> Solicitation:
        return replace(self, status=Status.CLOSED, closing_reason=reason, closed_at=at)


def answer_order(candidates: list[Solicitation], session_id: str | None) -> list[Solicitation]:
    """Which solicitation a response closes first: the person's own session, then one
    already sent, then the oldest (ties by id, so every store picks the same)."""
    return sorted(
        candidates,
        key=lambda s: (
            s.training.session_id != session_id,
            s.sent_at is None,
            s.due_at,
            s.solicitation_id,
        ),
    )
