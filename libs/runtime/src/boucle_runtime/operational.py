"""Health, readiness and Prometheus endpoints, the same on every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

ReadinessCheck = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT_SECONDS = 2.0


async def _run_check(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception:  # a failing dependency means "not ready", never a 500
        return False


def operational_router(
    *, registry: CollectorRegistry, checks: Mapping[str, ReadinessCheck]
) -> APIRouter:
    """``/health/live`` (process answers), ``/health/ready`` (dependencies answer), ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="Liveness: the process answers")
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/health/ready", summary="Readiness: Kafka and the database answer")
    async def ready() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
        status = dict(zip(names, ("up" if ok else "down" for ok in results), strict=True))
        ok = all(results)
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": status},
            status_code=200 if ok else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
