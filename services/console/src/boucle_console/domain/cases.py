"""Cases as the console shows them: the inbox, deadlines counting down, the next step. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

SOON = timedelta(hours=24)  # a deadline closer than this is shown as urgent


class Step(StrEnum):
    """What a person does next on a case, i.e. which form the page offers."""

    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"  # with the root cause when it is not recorded yet
    NONE = "none"


class Urgency(StrEnum):
    LATE = "late"
    SOON = "soon"
    ON_TIME = "on_time"


@dataclass(frozen=True, slots=True)
class Countdown:
    """Time left before a deadline (negative once missed)."""

    due_at: datetime
    remaining: timedelta

    @property
    def urgency(self) -> Urgency:
        if self.remaining <= timedelta(0):
            return Urgency.LATE
        return Urgency.SOON if self.remaining <= SOON else Urgency.ON_TIME


def countdown(due_at: datetime | None, now: datetime) -> Countdown | None:
    return None if due_at is None else Countdown(due_at, due_at - now)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    note: str | None


@dataclass(frozen=True, slots=True)
class CaseView:
    case_id: str
    site_id: str | None
    source: str
    summary: str
    category: str | None
    status: str
    revision: int
    opened_at: datetime
    acknowledge_due_at: datetime | None
    answer_due_at: datetime | None
    acknowledged_at: datetime | None
    answered_at: datetime | None
    answer: str | None
    root_cause: str | None
    history: tuple[HistoryLine, ...] = field(default=())
    source_ref: str | None = None  # the complaint's (hazard's…) id, as problems cite it

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CaseView:
        """From the actions API's ``Case`` (JSON, datetimes already parsed by the adapter)."""
        return cls(
            case_id=data["case_id"],
            site_id=data.get("site_id"),
            source=data["source"],
            summary=data["summary"],
            category=data.get("category"),
            status=data["status"],
            revision=data["revision"],
            opened_at=_moment(data["opened_at"]),
            acknowledge_due_at=_optional(data.get("acknowledge_due_at")),
            answer_due_at=_optional(data.get("answer_due_at")),
            acknowledged_at=_optional(data.get("acknowledged_at")),
            answered_at=_optional(data.get("answered_at")),
            answer=data.get("answer"),
            root_cause=data.get("root_cause"),
            history=tuple(
                HistoryLine(
                    at=_moment(h["at"]),
                    actor=h["actor"],
                    from_status=h.get("from_status"),
                    to_status=h["to_status"],
                    note=h.get("note"),
                )
                for h in data.get("history", ())
            ),
            source_ref=data.get("source_ref"),
        )

    @property
    def next_step(self) -> Step:
        if self.status == "received":
            return Step.ACKNOWLEDGE
        if self.status in {"acknowledged", "analysed", "escalated", "in_mediation"}:
            return Step.ANSWER
        return Step.NONE

    def deadline(self, now: datetime) -> Countdown | None:
        """The deadline that matters now: acknowledging first, then answering."""
        if self.next_step is Step.ACKNOWLEDGE and self.acknowledge_due_at is not None:
            return countdown(self.acknowledge_due_at, now)
        if self.next_step is not Step.NONE:
            return countdown(self.answer_due_at, now)
        return None


@dataclass(frozen=True, slots=True)
class Inbox:
    to_acknowledge: tuple[CaseView, ...]
    to_answer: tuple[CaseView, ...]
    answered: tuple[CaseView, ...]

    @property
    def waiting(self) -> int:
        return len(self.to_acknowledge) + len(self.to_answer)


def inbox(cases: Iterable[CaseView], now: datetime) -> Inbox:
    """Open work first, most urgent (nearest deadline) first; answered ones apart, newest first.

    Closed cases have left the inbox.
    """
    far = now + timedelta(days=36_500)

    def due(case: CaseView) -> datetime:
        found = case.deadline(now)
        return found.due_at if found else far

    listed = list(cases)
    return Inbox(
        to_acknowledge=tuple(
            sorted((c for c in listed if c.next_step is Step.ACKNOWLEDGE), key=due)
        ),
        to_answer=tuple(sorted((c for c in listed if c.next_step is Step.ANSWER), key=due)),
        answered=tuple(
            sorted(
                (c for c in listed if c.status == "answered"),
                key=lambda c: c.answered_at or c.opened_at,
                reverse=True,
            )
        ),
    )


def answer_transitions(case: CaseView, *, root_cause: str | None) -> list[str]:
    """The statuses to go through so that the case ends answered.

    A case not analysed yet goes through "analysed" first, which needs its root cause
    (given in the form, or recorded before).
    """
    if case.status == "analysed":
        return ["answered"]
    if case.status in {"escalated", "in_mediation"} and not (root_cause or case.root_cause):
        return ["answered"]  # these may be answered directly
    return ["analysed", "answered"]


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _optional(value: Any) -> datetime | None:
    return None if value is None else _moment(value)
