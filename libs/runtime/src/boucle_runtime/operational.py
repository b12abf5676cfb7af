"""Health, readiness and Prometheus endpoints, the same on every service."""

from __future__ import annotations

import time
from collections.abc import Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boucle_runtime.backends import BackendMonitor, ReadinessCheck

__all__ = ["CHECK_TIMEOUT_SECONDS", "ReadinessCheck", "RequestMetrics", "operational_router"]

CHECK_TIMEOUT_SECONDS = 2.0  # each check's own bound (a dead broker's ping takes all of it)


def operational_router(
    *,
    registry: CollectorRegistry,
    checks: Mapping[str, ReadinessCheck] | None = None,
    monitor: BackendMonitor | None = None,
) -> APIRouter:
    """``/health/live`` (process answers), ``/health/ready`` (dependencies answer), ``/metrics``.

    Readiness answers from the ``monitor``'s last results (checked in the background by the
    service; re-checked here only when older than a few seconds, and even then the answer
    waits at most a fraction of a second): a probe never waits for a dead backend's timeout.
    Given ``checks`` instead, the router builds its own monitor over them.
    """
    if monitor is None:
        monitor = BackendMonitor(
            checks or {}, registry=registry, check_timeout=CHECK_TIMEOUT_SECONDS
        )
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="Liveness: the process answers")
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/health/ready", summary="Readiness: Kafka and the database answer")
    async def ready() -> JSONResponse:
        states = await monitor.current()
        ok = all(states.values())
        return JSONResponse(
            {
                "status": "ready" if ok else "not_ready",
                "checks": {name: "up" if up else "down" for name, up in states.items()},
            },
            status_code=200 if ok else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestMetrics:
    """Pure ASGI middleware: requests by route template and status, and their duration.

    Route templates (``/v1/networks/{network_id}/…``), never raw paths, keep the label set
    bounded and free of tenant ids.
    """

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self._app = app
        self._requests = Counter(
            "boucle_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self._duration = Histogram(
            "boucle_http_request_duration_seconds",
            "HTTP request duration by method and route template.",
            ["method", "route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self._requests.labels(method, route, str(status)).inc()
            self._duration.labels(method, route).observe(time.perf_counter() - started)
