"""Event-time scheduling: the watermark, the quiet wall clock, and rewinds on late data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boucle_analyzer.domain.schedule import Progress, plan

pytestmark = pytest.mark.unit
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)
GRACE = timedelta(hours=48)
QUIET = timedelta(hours=1)


def _week(index: int) -> datetime:
    return START + index * WEEK


def _plan(
    revisions: dict[datetime, int],
    latest_event: datetime | None,
    now: datetime,
    progress: Progress | None = None,
    limit: int = 100,
) -> tuple[datetime | None, list[int], Progress]:
    result = plan(
        revisions=revisions,
        latest_event=latest_event,
        progress=progress or Progress(),
        now=now,
        grace=GRACE,
        quiet=QUIET,
        warmup_weeks=4,
        limit=limit,
    )
    due = [round((week - START) / WEEK) for week in result.due]
    return result.rewind_to, due, result.progress


def test_a_year_imported_at_once_is_evaluated_up_to_its_own_watermark() -> None:
    # A year of 2025 arrives in December 2026: the data, not the wall clock, says what is done.
    revisions = {_week(i): 10 for i in range(52)}
    last_event = _week(51) + timedelta(days=5)

    _, due, progress = _plan(revisions, last_event, now=datetime(2026, 12, 2, tzinfo=UTC))

    assert due == list(range(4, 51))  # week 51 ends after the watermark (last event - grace)
    assert progress.watermark == last_event - GRACE


def test_the_wall_clock_closes_the_last_week_only_when_nothing_is_in_flight() -> None:
    revisions = {_week(i): 10 for i in range(10)}
    last_event = _week(9) + timedelta(days=2)
    now = _week(10) + timedelta(days=3)  # grace past the end of week 9

    _, due, progress = _plan(revisions, last_event, now)
    assert due[-1] == 8  # data just changed (first look): maybe still arriving

    _, due, _ = _plan(revisions, last_event, now + QUIET, _through(progress, 8, revisions))
    assert due == [9]  # an hour without new data: the week is closed


def test_data_still_flowing_keeps_the_wall_clock_from_closing_a_week() -> None:
    revisions = {_week(i): 10 for i in range(10)}
    progress = Progress(through=_week(8), evaluated=dict(revisions), total=100, quiet_since=None)
    more = revisions | {_week(9): 11}
    now = _week(12)

    _, due, after = _plan(more, _week(9) + timedelta(days=2), now, progress)

    assert due == []
    assert after.quiet_since == now


def test_late_data_for_an_evaluated_week_moves_the_cursor_back_to_it() -> None:
    revisions = {_week(i): 10 for i in range(20)}
    progress = Progress(
        through=_week(18), evaluated=dict(revisions), watermark=_week(19), total=200
    )
    late = revisions | {_week(12): 11}

    rewind_to, due, after = _plan(late, _week(19) + timedelta(days=3), _week(20), progress)

    assert rewind_to == _week(12)
    assert due == list(range(12, 19))
    assert after.through == _week(11)
    assert max(after.evaluated) == _week(11)


def test_late_data_before_the_first_evaluated_week_re_evaluates_from_the_start() -> None:
    revisions = {_week(i): 10 for i in range(3, 20)}
    progress = Progress(through=_week(18), evaluated=dict(revisions), watermark=_week(19))
    earlier = revisions | {_week(0): 1}  # an older week shows up: the baselines change

    rewind_to, due, after = _plan(earlier, _week(19) + timedelta(days=3), _week(20), progress)

    assert rewind_to == _week(4)
    assert due[0] == 4
    assert after.through is None


def test_a_future_dated_event_cannot_close_weeks_ahead_of_the_clock() -> None:
    revisions = {_week(i): 10 for i in range(10)}
    now = _week(6) + timedelta(days=1, hours=3)

    _, due, progress = _plan(revisions, _week(9) + timedelta(days=6), now)

    assert progress.watermark == _week(6) + timedelta(days=2) - GRACE
    assert due == [4, 5]  # up to the clock's day minus the grace, not the future event


def _through(progress: Progress, week: int, revisions: dict[datetime, int]) -> Progress:
    """As the runner leaves it after evaluating up to ``week``."""
    return Progress(
        through=_week(week),
        evaluated={w: r for w, r in revisions.items() if w <= _week(week)},
        watermark=progress.watermark,
        total=progress.total,
        quiet_since=progress.quiet_since,
    )
