"""Which reminders are due, and to whom. Pure.

A reminder's ``key`` names the item and the deadline it is about: the same key is never
sent twice to the same address (the state remembers it), and a new deadline (a plan
proposed again, a deadline moved) makes a new key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from boucle_console.domain.actions import ActionView
from boucle_console.domain.cases import CaseView, Step
from boucle_console.locale import TIMEZONE


class Kind(StrEnum):
    ACKNOWLEDGE = "acknowledge"  # a case about to miss its acknowledgement deadline
    ANSWER = "answer"  # a case about to miss its answer deadline
    VALIDATION = "validation"  # a plan waiting for the direction's validation
    DUE = "due"  # a plan's measures due soon, or late, and not done yet


@dataclass(frozen=True, slots=True)
class Ahead:
    """How long before a deadline the reminder goes out."""

    acknowledge: timedelta = timedelta(hours=12)
    answer: timedelta = timedelta(hours=48)
    measures: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Reminder:
    key: str
    kind: Kind
    item_id: str
    site_id: str | None
    title: str
    due_at: datetime | None  # None for a plan waiting for validation
    since: datetime | None = None  # when the plan was proposed
    path: str = ""  # the console page of the item


def _case_reminder(case: CaseView, now: datetime, warning: Ahead) -> Reminder | None:
    step = case.next_step
    if step is Step.ACKNOWLEDGE:
        kind, due, ahead = Kind.ACKNOWLEDGE, case.acknowledge_due_at, warning.acknowledge
    elif step is Step.ANSWER:
        kind, due, ahead = Kind.ANSWER, case.answer_due_at, warning.answer
    else:
        return None
    if due is None or due - now > ahead:
        return None
    return Reminder(
        key=f"{kind.value}/{case.case_id}/{due.isoformat()}",
        kind=kind,
        item_id=case.case_id,
        site_id=case.site_id,
        title=case.summary,
        due_at=due,
        path=f"/cases/{case.case_id}",
    )


def _plan_reminder(action: ActionView) -> Reminder | None:
    if not action.awaiting_validation:
        return None
    since = action.proposed_at or action.created_at
    return Reminder(
        key=f"{Kind.VALIDATION.value}/{action.action_id}/{since.isoformat()}",
        kind=Kind.VALIDATION,
        item_id=action.action_id,
        site_id=action.site_id,
        title=action.title,
        due_at=None,
        since=since,
        path=f"/actions/{action.action_id}",
    )


UNDER_WAY = frozenset({"validated", "in_progress", "reopened"})


def _due_reminder(action: ActionView, now: datetime, ahead: Ahead) -> Reminder | None:
    """Measures not done by the plan's due date: the end of that day, in Paris."""
    if action.status not in UNDER_WAY or action.due_date is None:
        return None
    due = datetime.combine(action.due_date, time(23, 59), tzinfo=ZoneInfo(TIMEZONE))
    if due - now > ahead.measures:
        return None
    return Reminder(
        key=f"{Kind.DUE.value}/{action.action_id}/{action.due_date.isoformat()}",
        kind=Kind.DUE,
        item_id=action.action_id,
        site_id=action.site_id,
        title=action.title,
        due_at=due,
        path=f"/actions/{action.action_id}",
    )


def due_reminders(
    cases: Iterable[CaseView],
    actions: Iterable[ActionView],
    now: datetime,
    warning: Ahead | None = None,
) -> list[Reminder]:
    """Cases whose deadline is within the warning (or already missed, still unsent), plans
    whose measures are due soon or late, plans waiting for validation; nearest first."""
    ahead = warning or Ahead()
    found = [r for r in (_case_reminder(c, now, ahead) for c in cases) if r is not None]
    found.sort(key=lambda r: r.due_at or now)
    plans = list(actions)
    found += sorted(
        (r for r in (_due_reminder(a, now, ahead) for a in plans) if r is not None),
        key=lambda r: r.due_at or now,
    )
    found += [r for r in (_plan_reminder(a) for a in plans) if r is not None]
    return found


@dataclass(frozen=True, slots=True)
class Recipients:
    """Addresses by role and site, from configuration (the console knows no e-mail address
    otherwise: tokens name people by subject only)."""

    quality_lead: tuple[str, ...] = ()
    direction: tuple[str, ...] = ()
    sites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recipients:
        return cls(
            quality_lead=tuple(data.get("quality_lead", ())),
            direction=tuple(data.get("direction", ())),
            sites={str(k): tuple(v) for k, v in (data.get("sites") or {}).items()},
        )

    def of(self, reminder: Reminder) -> Sequence[str]:
        """A case or a plan's measures go to its site's managers, a plan to validate to the
        direction; the quality lead when nobody else is configured for it."""
        if reminder.kind is Kind.VALIDATION:
            found = self.direction
        else:
            found = self.sites.get(reminder.site_id or "", ())
        return found or self.quality_lead
