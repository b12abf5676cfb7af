"""Which weeks of a network to evaluate, in event time. Pure.

A week is evaluated when its data is complete, which the data itself tells: the
**watermark** is the latest event time seen for the network (known to the day, from the
day aggregates; capped at the end of the current day, so a clock-skewed future event cannot
close weeks early) minus a grace period, and never goes back; every week that ends at or
before it is complete. The wall clock closes a week only when it ended more than
the grace period ago **and** nothing is in flight: the network's data has not changed for
``quiet`` (a live network that went silent still gets its last week evaluated; a
historical import, whose data keeps changing, is driven by its own event times).

Late data — a week already evaluated whose figures changed since (the revision of the
network's weekly aggregate differs from the one evaluated) — moves the cursor back to that
week, and every week from there is evaluated again, in order, from the degradations as
they stood before it: the same data gives the same findings, the same transitions and the
same degradation ids, so a historical import ends where live ingestion would have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from boucle_analyzer.domain.detection import Degradation

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Progress:
    """A network's detection progress, kept in the analyzer's database."""

    through: datetime | None = None  # last week evaluated
    evaluated: Mapping[datetime, int] = field(default_factory=dict)  # week -> revision seen
    watermark: datetime | None = None
    total: int = 0  # sum of the weekly revisions at the last look: has data come in since?
    quiet_since: datetime | None = None  # wall time since which ``total`` has not moved
    # Degradations opened on or after a re-evaluated week, taken out of the store: resolved
    # (an event) once the re-run passes their opening week without opening them again.
    retracted: tuple[Degradation, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    rewind_to: datetime | None  # first week to evaluate again (late data), if any
    due: list[datetime]  # weeks to evaluate now, in order (after the rewind)
    progress: Progress  # watermark and quietness updated; cursor as after the rewind


def plan(
    *,
    revisions: Mapping[datetime, int],
    latest_event: datetime | None,
    progress: Progress,
    now: datetime,
    grace: timedelta,
    quiet: timedelta,
    warmup_weeks: int,
    limit: int,
) -> Plan:
    """The weeks to evaluate given the network's weekly revisions (week start -> revision).

    ``limit`` caps ``due`` at that many weeks plus one (to tell "behind" apart).
    """
    if not revisions:
        return Plan(None, [], progress)
    total = sum(revisions.values())
    quiet_since = progress.quiet_since if total == progress.total else now
    watermark = progress.watermark
    if latest_event is not None:
        mark = min(latest_event, _end_of_day(now)) - grace
        watermark = mark if watermark is None else max(watermark, mark)
    first = min(revisions) + warmup_weeks * WEEK
    through = progress.through
    rewind_to = _changed(revisions, progress, first)
    evaluated = progress.evaluated
    if rewind_to is not None:
        through = rewind_to - WEEK if rewind_to > first else None
        evaluated = {w: r for w, r in evaluated.items() if w < rewind_to}
    is_quiet = quiet_since is not None and now - quiet_since >= quiet
    week = first if through is None else through + WEEK
    due: list[datetime] = []
    while len(due) <= limit:
        end = week + WEEK
        complete = watermark is not None and end <= watermark
        closed = is_quiet and end + grace <= now
        if not (complete or closed):
            break
        due.append(week)
        week = end
    updated = Progress(
        through=through,
        evaluated=evaluated,
        watermark=watermark,
        total=total,
        quiet_since=quiet_since,
        retracted=progress.retracted,
    )
    return Plan(rewind_to, due, updated)


def _end_of_day(moment: datetime) -> datetime:
    """Event times are known to the day (day aggregates): the wall clock caps them so."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def _changed(
    revisions: Mapping[datetime, int], progress: Progress, first: datetime
) -> datetime | None:
    """The earliest evaluated week whose data changed since it was evaluated."""
    if progress.through is None:
        return None
    changed = [
        week
        for week, revision in revisions.items()
        if week <= progress.through and progress.evaluated.get(week) != revision
    ]
    if not changed:
        return None
    return max(min(changed), first)
