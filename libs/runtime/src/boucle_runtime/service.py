"""The life of a service process: start in order, answer health probes, stop gracefully."""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from boucle_contracts.registry import TopicSpec
from boucle_runtime.backends import BackendMonitor, register_monitor
from boucle_runtime.kafka import ensure_topics
from boucle_runtime.lag import LagMonitor
from boucle_runtime.limits import BodySizeLimit
from boucle_runtime.logging import get_logger
from boucle_runtime.operational import (
    CHECK_TIMEOUT_SECONDS,
    ReadinessCheck,
    RequestMetrics,
    operational_router,
)
from boucle_runtime.periodic import BackgroundLoop
from boucle_runtime.settings import ServiceSettings

Hook = Callable[[], Awaitable[None]]
log = get_logger(__name__)


def broker_check(broker: KafkaBroker) -> ReadinessCheck:
    async def check() -> bool:
        return await broker.ping(timeout=1.5)

    return check


def service_app(
    *,
    name: str,
    version: str,
    description: str,
    settings: ServiceSettings,
    broker: KafkaBroker,
    registry: CollectorRegistry,
    topics: Iterable[TopicSpec],
    extra_topics: Iterable[str] = (),
    checks: Mapping[str, ReadinessCheck] = {},
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    background: Sequence[BackgroundLoop] = (),
) -> FastAPI:
    """A FastAPI app that owns the broker's life: nothing connects before the app starts.

    Start: topics exist, startup hooks (e.g. database indexes), then the broker (so that
    consumers only run once their storage is ready), then background loops. Stop: loops
    first, then the broker, waiting up to ``graceful_timeout_seconds`` for in-flight
    handlers, then shutdown hooks (e.g. closing the database client).

    Every request body is limited to ``http_max_body_bytes`` before any route (or its
    authentication) reads it. Readiness checks run in the background every
    ``readiness_refresh_seconds``; ``/health/ready`` and the consumers read their results.
    The interactive documentation (``/docs``, ``/redoc``) is served only when
    ``api_docs_enabled``; ``app.openapi()`` always works (tools/specs.py uses it).
    """
    topic_specs, extra = list(topics), list(extra_topics)
    monitor = BackendMonitor(
        {"kafka": broker_check(broker), **checks},
        registry=registry,
        check_timeout=CHECK_TIMEOUT_SECONDS,
    )
    register_monitor(broker, monitor)  # consumers of this broker ask it (see deadletter)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.create_topics:
            await ensure_topics(settings, topic_specs, extra=extra)
        for hook in on_startup:
            await hook()
        await broker.start()
        stopping = asyncio.Event()
        loops = [
            monitor.loop(settings.readiness_refresh_seconds),
            *background,
            LagMonitor(broker, registry).loop(),
        ]
        tasks = [asyncio.create_task(loop(stopping)) for loop in loops]
        log.info("service_started", version=version)
        try:
            yield
        finally:
            log.info("service_stopping")
            stopping.set()
            await asyncio.wait_for(
                asyncio.gather(*tasks, return_exceptions=True), settings.graceful_timeout_seconds
            )
            await broker.stop()
            for hook in on_shutdown:
                await hook()
            log.info("service_stopped")

    docs = settings.api_docs_enabled and settings.api_schema_enabled
    app = FastAPI(
        title=name,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_url="/openapi.json" if settings.api_schema_enabled else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect" if docs else None,
    )
    # The last added runs first: metrics see every answer, 413s of the body limit included;
    # the limit runs before any route, hence before authentication reads a body.
    app.add_middleware(BodySizeLimit, max_bytes=settings.http_max_body_bytes)
    app.add_middleware(RequestMetrics, registry=registry)
    app.state.broker = broker  # for AsyncAPI generation and tests; never used to connect early
    app.include_router(operational_router(registry=registry, monitor=monitor))
    for router in routers:
        app.include_router(router)
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run until SIGTERM/SIGINT, then drain: uvicorn stops accepting and runs the lifespan exit."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep our structured logging
        timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
        access_log=False,
    )
