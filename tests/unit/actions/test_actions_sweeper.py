"""The sweep loop (boucle_runtime.periodic.every): sweeps at start, survives a failing sweep,
stops promptly."""

from __future__ import annotations

import asyncio

import pytest

from boucle_actions.sweeper import Sweeper

pytestmark = pytest.mark.unit


class CountingSweeper(Sweeper):
    """Only the loop is under test: each sweep is counted, the first one fails."""

    def __init__(self) -> None:
        self.sweeps = 0

    async def sweep(self) -> None:
        self.sweeps += 1
        if self.sweeps == 1:
            raise ConnectionError("database hiccup")


async def sweeps_until(interval: float, count: int) -> int:
    """Run the loop until ``count`` sweeps were made, stop it, and say how many there were."""
    sweeper, stopping = CountingSweeper(), asyncio.Event()
    running = asyncio.create_task(sweeper.loop(interval)(stopping))
    async with asyncio.timeout(5):
        while sweeper.sweeps < count:
            await asyncio.sleep(0.005)
    stopping.set()
    await asyncio.wait_for(running, 1)  # stops promptly, whatever the interval
    return sweeper.sweeps


async def test_the_sweep_runs_at_start_then_every_interval_despite_a_failure() -> None:
    assert await sweeps_until(0.01, 3) >= 3


async def test_the_first_sweep_does_not_wait_for_the_interval() -> None:
    assert await sweeps_until(3600, 1) == 1
