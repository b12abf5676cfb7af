"""Backend checks in the background: bounded readiness, one log line per outage edge, metrics."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from boucle_runtime.backends import BackendMonitor
from boucle_runtime.operational import operational_router

pytestmark = pytest.mark.unit


class Backend:
    """A backend whose check answers ``up``, or hangs ``delay`` seconds when asked to."""

    def __init__(self) -> None:
        self.up, self.delay, self.calls = True, 0.0, 0

    async def check(self) -> bool:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.up:
            raise ConnectionRefusedError("connection refused")
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _value(registry: CollectorRegistry, name: str, backend: str) -> float | None:
    return registry.get_sample_value(name, {"backend": backend})


async def test_an_outage_is_logged_once_when_it_starts_and_once_with_its_duration() -> None:
    kafka, clock, registry = Backend(), Clock(), CollectorRegistry()
    monitor = BackendMonitor({"kafka": kafka.check}, registry=registry, clock=clock)

    with capture_logs() as logs:
        await monitor.refresh()
        kafka.up = False
        for _ in range(50):  # 50 failed checks during a 25-second outage
            clock.now += 0.5
            await monitor.refresh()
        kafka.up = True
        await monitor.refresh()
        await monitor.refresh()

    events = [(e["event"], e.get("backend"), e.get("outage_seconds")) for e in logs]
    assert events == [("backend_down", "kafka", None), ("backend_up", "kafka", 24.5)]
    assert _value(registry, "boucle_backend_up", "kafka") == 1.0
    assert _value(registry, "boucle_backend_outages_total", "kafka") == 1.0


async def test_the_gauge_says_down_during_the_outage() -> None:
    mongo, registry = Backend(), CollectorRegistry()
    mongo.up = False
    monitor = BackendMonitor({"mongodb": mongo.check}, registry=registry)

    await monitor.refresh()

    assert _value(registry, "boucle_backend_up", "mongodb") == 0.0
    assert not monitor.all_up()
    assert monitor.last_known() == {"mongodb": False}


async def test_a_hanging_check_does_not_hold_the_answer_beyond_the_bound() -> None:
    slow = Backend()
    slow.delay = 1.5  # a dead broker's ping takes its whole timeout
    monitor = BackendMonitor({"kafka": slow.check}, registry=CollectorRegistry(), answer_within=0.2)

    started = time.perf_counter()
    states = await monitor.current()
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5
    assert states == {"kafka": False}, "never known yet: not ready"


async def test_results_are_reused_while_fresh_then_checked_again() -> None:
    kafka, clock = Backend(), Clock()
    monitor = BackendMonitor(
        {"kafka": kafka.check}, registry=CollectorRegistry(), clock=clock, fresh_for=5.0
    )

    await monitor.current()
    clock.now += 4.0
    await monitor.current()
    assert kafka.calls == 1
    clock.now += 2.0
    await monitor.current()
    assert kafka.calls == 2


async def test_concurrent_probes_share_one_check() -> None:
    kafka = Backend()
    kafka.delay = 0.05
    monitor = BackendMonitor({"kafka": kafka.check}, registry=CollectorRegistry())

    await asyncio.gather(*(monitor.current() for _ in range(10)))

    assert kafka.calls == 1


async def test_the_background_loop_keeps_results_fresh_and_stops() -> None:
    kafka = Backend()
    monitor = BackendMonitor({"kafka": kafka.check}, registry=CollectorRegistry())
    stopping = asyncio.Event()

    task = asyncio.create_task(monitor.loop(0.01)(stopping))
    await asyncio.sleep(0.1)
    stopping.set()
    await asyncio.wait_for(task, 1)

    assert kafka.calls >= 3
    assert monitor.all_up()


def test_ready_answers_within_the_bound_while_a_backend_hangs() -> None:
    """Readiness took over 1.5 s while a backend was down: it answers from the last results."""
    kafka, mongo = Backend(), Backend()
    monitor = BackendMonitor(
        {"kafka": kafka.check, "mongodb": mongo.check}, registry=CollectorRegistry()
    )
    app = FastAPI()
    app.include_router(operational_router(registry=CollectorRegistry(), monitor=monitor))

    with TestClient(app) as client:  # one event loop, as in a served app
        assert client.get("/health/ready").status_code == 200
        kafka.delay, kafka.up = 1.5, False
        monitor._checked_at = None  # results as old as they get: checked again now
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            response = client.get("/health/ready")
            timings.append(time.perf_counter() - started)

    assert max(timings) < 0.5, timings
    assert response.status_code == 200, "the last known state while the check runs"
    assert kafka.calls == 2, "one check in flight, not one per probe"
