"""Event time in the detection runner: late data re-evaluates, an import matches live."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from boucle_analyzer.domain.ports import Position
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from tests.unit.analyzer.test_analyzer_detection_runner import BAD, GOOD, START, WEEK, World
from tests.unit.analyzer.test_analyzer_detection_runner import _response as response

pytestmark = pytest.mark.unit
SITES = ("lyon", "paris", "lille", "nantes")


async def _feed(world: World, week: int, site: str, ratings: list[int], first: int = 0) -> None:
    for number, rating in enumerate(ratings, start=first):
        world.offset += 1
        await world.handler.handle(
            response(site, week, number, rating), Position("t", 0, world.offset)
        )


async def _feed_weeks(world: World, weeks: range, bad: range = range(0)) -> None:
    for week in weeks:
        for site in SITES:
            await _feed(world, week, site, BAD if site == "lyon" and week in bad else GOOD)


def _detected(world: World) -> list[tuple[str, datetime]]:
    return [
        (e.data.degradation_id, e.data.detected_at)
        for e in world.sink.events
        if isinstance(e, DegradationDetectedV1)
    ]


def _resolved(world: World) -> list[tuple[str, datetime]]:
    return [
        (e.data.degradation_id, e.data.resolved_at)
        for e in world.sink.events
        if isinstance(e, DegradationResolvedV1)
    ]


async def _settle(world: World, now: datetime) -> None:
    """A run, and another an hour and a half later (nothing new: the clock may close)."""
    await world.detect(now)
    await world.detect(now + timedelta(hours=1, minutes=30))


async def test_a_historical_import_detects_what_live_ingestion_did() -> None:
    live, imported = World(), World()
    for week in range(24):
        await _feed_weeks(live, range(week, week + 1), bad=range(17, 20))
        await _settle(live, START + (week + 1) * WEEK + timedelta(days=3))
    await _feed_weeks(imported, range(24), bad=range(17, 20))

    await _settle(imported, START + 80 * WEEK)  # a year and a half later

    assert len(_detected(live)) == 1
    assert _detected(imported) == _detected(live)
    assert _resolved(imported) == _resolved(live)
    degradation_id, detected_at = _detected(imported)[0]
    assert detected_at == START.replace(hour=0) + 18 * WEEK  # the data's time: end of week 17
    assert [
        d.degradation_id
        for d in await imported.degradations.degradations(network_id="net", open_only=False)
    ] == [degradation_id]


async def test_late_responses_move_the_cursor_back_and_open_the_same_degradation() -> None:
    on_time, late = World(), World()
    await _feed_weeks(on_time, range(20), bad=range(17, 20))
    await on_time.detect(START + 21 * WEEK)
    await _feed_weeks(late, range(17))
    for week in range(17, 20):  # Lyon's last three weeks are still on their way
        for site in SITES[1:]:
            await _feed(late, week, site, GOOD)
    await late.detect(START + 21 * WEEK)
    assert _detected(late) == []
    assert (
        await late.degradations.evaluated_through(network_id="net")
        == START.replace(hour=0) + 18 * WEEK
    )

    for week in range(17, 20):
        await _feed(late, week, "lyon", BAD)
    await late.detect(START + 21 * WEEK + timedelta(hours=1))

    assert _detected(late) == _detected(on_time)
    assert len(_detected(late)) == 1


async def test_a_degradation_late_data_no_longer_supports_is_resolved() -> None:
    world = World()
    await _feed_weeks(world, range(20), bad=range(17, 19))
    await world.detect(START + 21 * WEEK)
    [(degradation_id, _)] = _detected(world)

    # Most of Lyon's responses of weeks 17 and 18 arrive late, and they are good: no drop.
    for week in (17, 18):
        for batch in range(4):
            await _feed(world, week, "lyon", GOOD, first=40 + 30 * batch)
    await world.detect(START + 21 * WEEK + timedelta(hours=1))

    # resolved once the re-run has passed week 17 (where it opened) without opening it
    assert _resolved(world) == [(degradation_id, START.replace(hour=0) + 18 * WEEK)]
    assert await world.degradations.degradations(network_id="net", open_only=False) == []
    assert len(_detected(world)) == 1  # nothing opened again
