"""The complaint register (indicator 31): each complaint, its answer and the deadlines. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from boucle_reporter.domain.i18n import translate
from boucle_reporter.domain.read_model import CaseView, ComplaintView

REGISTER_KEYS = (
    "col.reference",
    "col.site",
    "reg.received",
    "reg.channel",
    "reg.role",
    "reg.category",
    "reg.subject",
    "reg.ack_due",
    "reg.ack_at",
    "reg.ack_days",
    "reg.answer_due",
    "reg.answer_at",
    "reg.answer_days",
    "reg.on_time",
    "col.status",
    "reg.actions",
)


def register_columns(language: str = "fr") -> tuple[str, ...]:
    return tuple(translate(language, key) for key in REGISTER_KEYS)


def _days(start: datetime, end: datetime | None) -> float | None:
    return round((end - start).total_seconds() / 86_400, 1) if end else None


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


@dataclass(frozen=True, slots=True)
class RegisterRow:
    reference: str
    site: str
    received: date
    channel: str
    role: str
    category: str
    subject: str
    ack_due: date | None
    ack_at: date | None
    ack_days: float | None
    answer_due: date | None
    answer_at: date | None
    answer_days: float | None
    on_time: str
    status: str
    actions: str

    def values(self) -> tuple[str | date | float | None, ...]:
        return (
            self.reference,
            self.site,
            self.received,
            self.channel,
            self.role,
            self.category,
            self.subject,
            self.ack_due,
            self.ack_at,
            self.ack_days,
            self.answer_due,
            self.answer_at,
            self.answer_days,
            self.on_time,
            self.status,
            self.actions,
        )


def on_time(case: CaseView | None, now: datetime) -> str | None:
    """``yes``, ``no`` or ``pending`` (not answered yet, deadline not passed)."""
    if case is None:
        return None
    late = False
    for done, due in (
        (case.acknowledged_at or case.answered_at, case.acknowledge_due_at),
        (case.answered_at, case.answer_due_at),
    ):
        if due is not None and (done or now) > due:
            late = True
    if late:
        return "no"
    return "yes" if case.answered_at else "pending"


def register_rows(
    complaints: list[ComplaintView], cases: list[CaseView], now: datetime, language: str = "fr"
) -> list[RegisterRow]:
    """One row per complaint; complaint cases whose complaint event predates the log too."""
    by_ref = {c.source_ref: c for c in cases if c.source == "complaint"}
    rows, seen = [], set()
    for complaint in complaints:
        seen.add(complaint.complaint_id)
        rows.append(_row(complaint, by_ref.get(complaint.complaint_id), now, language))
    for ref, case in by_ref.items():
        if ref not in seen:
            rows.append(_row(None, case, now, language))
    return sorted(rows, key=lambda r: (r.received, r.site, r.reference))


def _category(slug: str | None, language: str) -> str:
    """A standard dimension's name; a network's own category slug as it is."""
    return translate(language, f"dim.{slug}") if slug else ""


def _row(
    complaint: ComplaintView | None, case: CaseView | None, now: datetime, language: str
) -> RegisterRow:
    if complaint is not None:
        reference, site, received = complaint.complaint_id, complaint.site_id, complaint.received_at
        channel, role, subject = complaint.channel, complaint.complainant_role, complaint.subject
        category = complaint.category
    elif case is not None:
        reference, site, received = case.source_ref, case.site_id, case.opened_at
        channel, role, subject, category = "", "", case.summary, None
    else:
        raise ValueError("a register row needs a complaint or a case")
    timing = on_time(case, now)
    return RegisterRow(
        reference=reference,
        site=site or "",
        received=received.date(),
        channel=translate(language, f"channel.{channel}") if channel else "",
        role=translate(language, f"role.{role}") if role else "",
        category=_category((case.category if case else None) or category, language),
        subject=subject,
        ack_due=_day(case.acknowledge_due_at) if case else None,
        ack_at=_day(case.acknowledged_at) if case else None,
        ack_days=_days(received, case.acknowledged_at) if case else None,
        answer_due=_day(case.answer_due_at) if case else None,
        answer_at=_day(case.answered_at) if case else None,
        answer_days=_days(received, case.answered_at) if case else None,
        on_time=translate(language, f"reg.{timing}") if timing else "",
        status=translate(language, f"status.{case.status}" if case else "reg.no_case"),
        actions=", ".join(case.action_ids) if case else "",
    )
