"""The periodic-loop helper: ticks, backlogs without pause, failures survived, prompt stop."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from structlog.testing import capture_logs

from boucle_runtime.periodic import every

pytestmark = pytest.mark.unit


async def test_runs_every_interval_and_stops_promptly_when_asked() -> None:
    calls: list[float] = []

    async def step() -> None:
        calls.append(asyncio.get_running_loop().time())

    stopping = asyncio.Event()
    task = asyncio.create_task(every(0.02, step, name="tick", jitter=0)(stopping))
    await asyncio.sleep(0.11)
    stopping.set()
    await asyncio.wait_for(task, timeout=0.5)  # a stopped loop ends at once, not at its tick
    assert 3 <= len(calls) <= 6
    assert all(b - a >= 0.019 for a, b in itertools.pairwise(calls))


async def test_at_start_runs_before_the_first_wait() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1

    stopping = asyncio.Event()
    task = asyncio.create_task(every(60, step, name="tick", at_start=True)(stopping))
    await asyncio.sleep(0.01)
    stopping.set()
    await asyncio.wait_for(task, timeout=0.5)
    assert calls == 1


async def test_a_step_with_more_work_waiting_runs_again_without_pause() -> None:
    backlog = [3, 2, 1, 0]

    async def step() -> bool:
        return backlog.pop(0) > 0  # True while work remains

    stopping = asyncio.Event()
    task = asyncio.create_task(every(60, step, name="drain", at_start=True)(stopping))
    await asyncio.sleep(0.01)
    assert backlog == []  # four steps ran back to back, the 60 s tick never came
    stopping.set()
    await asyncio.wait_for(task, timeout=0.5)


async def test_a_failing_step_is_logged_by_type_and_retried() -> None:
    attempts = 0

    async def step() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("secret-token@db.internal refused")

    stopping = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(every(0.01, step, name="sync", jitter=0)(stopping))
        await asyncio.sleep(0.08)
        stopping.set()
        await asyncio.wait_for(task, timeout=0.5)
    assert attempts >= 3  # the loop lived through two failures
    failures = [entry for entry in logs if entry["event"] == "sync_failed"]
    assert len(failures) == 2
    assert all(entry["error"] == "ConnectionError" for entry in failures)
    # the message may carry payload text: never logged
    assert "secret-token" not in repr(logs)


class _Drawn(random.Random):
    """Always draws the top of the range, and remembers the ranges asked for."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return b


async def test_jitter_stretches_each_wait_within_its_fraction() -> None:
    calls: list[float] = []

    async def step() -> None:
        calls.append(asyncio.get_running_loop().time())

    drawn = _Drawn()
    stopping = asyncio.Event()
    task = asyncio.create_task(every(0.02, step, name="tick", jitter=0.5, rng=drawn)(stopping))
    await asyncio.sleep(0.14)
    stopping.set()
    await asyncio.wait_for(task, timeout=0.5)
    assert drawn.ranges
    assert set(drawn.ranges) == {(-0.5, 0.5)}
    assert len(calls) >= 2
    assert all(b - a >= 0.029 for a, b in itertools.pairwise(calls))  # 0.02 × 1.5


@pytest.mark.parametrize(("seconds", "jitter"), [(0, 0.1), (-1, 0.1), (1, 1.0), (1, -0.1)])
def test_nonsense_settings_are_refused_with_the_loop_name(seconds: float, jitter: float) -> None:
    async def step() -> None:
        return None

    with pytest.raises(ValueError, match=r"^relay:"):
        every(seconds, step, name="relay", jitter=jitter)
