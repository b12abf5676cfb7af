"""What every service gets from ``service_app``: body limit, docs switch, bounded readiness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.testclient import TestClient
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from boucle_runtime.backends import ReadinessCheck, monitor_of
from boucle_runtime.service import service_app
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

LIMIT = 2048


class Authentication:
    """Stands for a signature check: it reads the whole body before the route runs."""

    def __init__(self) -> None:
        self.bodies_read: list[int] = []

    async def __call__(self, request: Request) -> None:
        self.bodies_read.append(len(await request.body()))


def _app(
    settings: ServiceSettings | None = None, *, checks: dict[str, ReadinessCheck] | None = None
) -> tuple[FastAPI, Authentication]:
    auth = Authentication()
    router = APIRouter()

    @router.post("/v1/things", dependencies=[Depends(auth)])
    async def create(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    app = service_app(
        name="unit",
        version="0",
        description="unit",
        settings=settings or ServiceSettings(http_max_body_bytes=LIMIT),
        broker=KafkaBroker(),
        registry=CollectorRegistry(),
        topics=[],
        routers=[router],
        checks=checks or {},
    )
    return app, auth


@pytest.fixture
def app_and_auth() -> tuple[TestClient, Authentication]:
    app, auth = _app()
    return TestClient(app), auth


def test_a_body_within_the_limit_reaches_the_route(
    app_and_auth: tuple[TestClient, Authentication],
) -> None:
    client, auth = app_and_auth

    response = client.post("/v1/things", content=b"x" * LIMIT)

    assert (response.status_code, response.json()) == (200, {"received": LIMIT})
    assert auth.bodies_read == [LIMIT]


def test_a_declared_length_over_the_limit_is_refused_before_authentication(
    app_and_auth: tuple[TestClient, Authentication],
) -> None:
    client, auth = app_and_auth

    response = client.post("/v1/things", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": f"request body larger than {LIMIT} bytes",
        "max_body_bytes": LIMIT,
    }
    assert auth.bodies_read == [], "authentication never read it"


def test_a_streamed_body_is_counted_chunk_by_chunk(
    app_and_auth: tuple[TestClient, Authentication],
) -> None:
    client, auth = app_and_auth

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(100):
            yield b"y" * 1000

    response = client.post("/v1/things", content=chunks())

    assert response.status_code == 413
    assert response.json()["max_body_bytes"] == LIMIT
    assert auth.bodies_read == []


def test_the_limit_is_a_setting() -> None:
    app, _ = _app(ServiceSettings(http_max_body_bytes=10_000))

    assert TestClient(app).post("/v1/things", content=b"x" * 5000).status_code == 200


def test_interactive_docs_are_off_by_default_and_the_schema_still_generates() -> None:
    app, _ = _app()
    client = TestClient(app)

    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert "/v1/things" in app.openapi()["paths"], "tools/specs.py reads app.openapi()"
    assert client.get("/openapi.json").status_code == 200


def test_interactive_docs_can_be_switched_on_and_the_schema_off() -> None:
    with_docs, _ = _app(ServiceSettings(api_docs_enabled=True))
    without_schema, _ = _app(ServiceSettings(api_schema_enabled=False, api_docs_enabled=True))

    assert TestClient(with_docs).get("/docs").status_code == 200
    assert TestClient(with_docs).get("/redoc").status_code == 200
    assert TestClient(without_schema).get("/openapi.json").status_code == 404
    assert TestClient(without_schema).get("/docs").status_code == 404, "no UI without schema"
    assert "/v1/things" in without_schema.openapi()["paths"]


def test_the_service_readiness_answers_within_a_bound_and_consumers_see_it() -> None:
    async def hangs() -> bool:
        await asyncio.sleep(5)
        return True

    app, _ = _app(checks={"mongodb": hangs})
    monitor = monitor_of(app.state.broker)
    assert monitor is not None
    assert monitor.names == ["kafka", "mongodb"]

    started = time.perf_counter()
    response = TestClient(app).get("/health/ready")

    assert time.perf_counter() - started < 1.0
    assert response.status_code == 503
    assert response.json()["checks"] == {"kafka": "down", "mongodb": "down"}
