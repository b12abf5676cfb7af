"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter

from boucle_runtime import operational
from boucle_runtime.operational import ReadinessCheck, operational_router

pytestmark = pytest.mark.unit


async def _up() -> bool:
    return True


async def _false() -> bool:
    return False


async def _raises() -> bool:
    raise ConnectionError("connection refused")


async def _hangs() -> bool:
    await asyncio.sleep(30)
    return True


def _client(
    checks: Mapping[str, ReadinessCheck], registry: CollectorRegistry | None = None
) -> TestClient:
    app = FastAPI()
    app.include_router(operational_router(registry=registry or CollectorRegistry(), checks=checks))
    return TestClient(app)


def test_alive_whatever_the_dependencies() -> None:
    response = _client({"kafka": _raises}).get("/health/live")

    assert (response.status_code, response.json()) == (200, {"status": "alive"})


def test_ready_when_every_check_passes() -> None:
    response = _client({"kafka": _up, "mongodb": _up}).get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"kafka": "up", "mongodb": "up"}}


@pytest.mark.parametrize("failing", [_false, _raises, _hangs], ids=["false", "raises", "hangs"])
def test_not_ready_names_the_failing_check(
    monkeypatch: pytest.MonkeyPatch, failing: ReadinessCheck
) -> None:
    monkeypatch.setattr(operational, "CHECK_TIMEOUT_SECONDS", 0.05)

    response = _client({"kafka": _up, "mongodb": failing}).get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {"kafka": "up", "mongodb": "down"},
    }


def test_checks_run_concurrently_each_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operational, "CHECK_TIMEOUT_SECONDS", 0.2)
    client = _client({"a": _hangs, "b": _hangs, "c": _hangs, "d": _hangs})
    started = time.perf_counter()
    response = client.get("/health/ready")
    elapsed = time.perf_counter() - started

    assert response.status_code == 503
    assert set(response.json()["checks"].values()) == {"down"}
    assert elapsed < 0.7, "four hanging checks time out together, not one after another"


def test_ready_without_checks() -> None:
    assert _client({}).get("/health/ready").status_code == 200


def test_metrics_exposes_the_registry() -> None:
    registry = CollectorRegistry()
    counter = Counter(
        "boucle_unit_things", "Things counted in a unit test.", ["kind"], registry=registry
    )
    counter.labels("widget").inc(3)

    response = _client({}, registry).get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'boucle_unit_things_total{kind="widget"} 3.0' in response.text
