"""When an act happened, as opposed to when it was recorded. Pure.

People often record what they did after the fact (a complaint acknowledged on Monday,
typed in on Wednesday; a plan validated in last month's meeting). A request may say when
the act happened (``occurred_at``); the history keeps both dates. An act cannot happen in
the future (a few minutes of clock skew aside) nor before the act it follows, so that the
history of a case or an action always reads in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

CLOCK_SKEW = timedelta(minutes=5)


class ChronologyError(ValueError):
    """An ``occurred_at`` the history cannot hold: in the future, or before the last act
    recorded (HTTP 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def latest(moments: Iterable[datetime | None]) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def act_time(
    occurred_at: datetime | None, *, now: datetime, not_before: datetime | None, what: str
) -> datetime:
    """The date of an act: ``occurred_at`` once checked, else ``now`` (recorded as it
    happens). ``not_before``: the last act recorded on the item, ``what`` names it."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise ChronologyError("occurred_at needs a time zone (e.g. 2025-03-17T10:00:00Z)")
    moment = occurred_at.astimezone(UTC)
    if moment > now + CLOCK_SKEW:
        raise ChronologyError(
            f"occurred_at {moment.isoformat()} is in the future (now {now.isoformat()}): "
            "an act is recorded once it has happened"
        )
    if not_before is not None and moment < not_before:
        raise ChronologyError(
            f"occurred_at {moment.isoformat()} is earlier than {what} "
            f"({not_before.astimezone(UTC).isoformat()}): acts are recorded in their order"
        )
    return moment
