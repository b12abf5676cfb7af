"""Composition root of the collector: wiring only, nothing connects at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from boucle_collector import __version__
from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.adapters.limesurvey import LimeSurveyClient
from boucle_collector.adapters.managed_mappings import ManagedMappings
from boucle_collector.adapters.memory import (
    InMemoryCursorStore,
    InMemoryLeaseStore,
    InMemoryMappingStore,
)
from boucle_collector.adapters.mongo import MongoCursorStore, MongoLeaseStore, MongoMappingStore
from boucle_collector.adapters.webhooks.surveymonkey import SurveyMonkeyClient
from boucle_collector.api import Gate, bulk_router, install_error_handlers, intake_router
from boucle_collector.domain.intake import ALL_KINDS
from boucle_collector.domain.limits import RateLimiter
from boucle_collector.domain.ports import CursorStore, LeaseStore, MappingStore
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.handlers import IntakeHandler
from boucle_collector.imports import import_router
from boucle_collector.mappings_api import mappings_router
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.middleware import IntakeLimits
from boucle_collector.pulls import LimeSurveyPull
from boucle_collector.settings import CollectorSettings
from boucle_collector.webhooks import WebhookIntake, webhook_router
from boucle_contracts.registry import TOPICS
from boucle_runtime.kafka import EventPublisher, EventSink, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "collector"


@dataclass(frozen=True)
class IntakeWiring:
    """The collector's routes and what they share, independent of the Kafka broker."""

    routers: list[APIRouter]
    integrations: IntegrationsSource
    managed: ManagedMappings
    pull: LimeSurveyPull
    metrics: CollectorMetrics


def wire_intake(
    settings: CollectorSettings,
    *,
    publisher: EventSink,
    metrics: CollectorMetrics,
    environ: Mapping[str, str] = os.environ,
    mappings: MappingStore | None = None,
    cursors: CursorStore | None = None,
    leases: LeaseStore | None = None,
) -> IntakeWiring:
    """Routes of the native API, bulk intake, webhooks and mappings, and the LimeSurvey pull,
    publishing through ``publisher``; mappings managed through the API in ``mappings`` and
    pull cursors and lease in ``cursors`` and ``leases`` (in memory if None: tests)."""
    handler = IntakeHandler(
        publisher=publisher,
        metrics=metrics,
        timeout_seconds=settings.publish_timeout_seconds,
        recent_ids=settings.recent_ids_capacity,
    )
    managed = ManagedMappings(mappings if mappings is not None else InMemoryMappingStore())
    integrations = IntegrationsSource(
        settings.integrations_file, metrics=metrics, environ=environ, managed=managed
    )
    gate = Gate(
        integrations=integrations,
        limiter=RateLimiter(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst),
        metrics=metrics,
    )
    secret = settings.pseudonymisation_secret
    pseudonymiser = Pseudonymiser(secret.get_secret_value().encode()) if secret else None
    webhooks = WebhookIntake(
        handler=handler,
        gate=gate,
        integrations=integrations,
        pseudonymiser=pseudonymiser,
        surveymonkey=SurveyMonkeyClient(
            base_url=settings.surveymonkey_base_url,
            timeout_seconds=settings.upstream_timeout_seconds,
        ),
    )
    routers = [
        intake_router(handler, gate),
        bulk_router(handler, gate, max_items=settings.max_bulk_items),
        webhook_router(webhooks),
        import_router(
            handler, gate, max_items=settings.max_bulk_items, pseudonymiser=pseudonymiser
        ),
        mappings_router(gate, managed),
    ]
    pull = LimeSurveyPull(
        handler=handler,
        integrations=integrations,
        cursors=cursors if cursors is not None else InMemoryCursorStore(),
        client=LimeSurveyClient(timeout_seconds=settings.upstream_timeout_seconds),
        pseudonymiser=pseudonymiser,
        leases=leases if leases is not None else InMemoryLeaseStore(),
        # Renewed every round; a replica that stopped is replaced after this long.
        lease_seconds=2 * settings.limesurvey_poll_seconds + 60,
    )
    return IntakeWiring(
        routers=routers, integrations=integrations, managed=managed, pull=pull, metrics=metrics
    )


def install_intake(app: FastAPI, settings: CollectorSettings, wiring: IntakeWiring) -> None:
    """Body limits, request timing and error answers around the intake routes."""
    app.add_middleware(
        IntakeLimits,
        metrics=wiring.metrics,
        max_body=settings.max_body_bytes,
        max_bulk_body=settings.max_bulk_body_bytes,
    )
    install_error_handlers(app, wiring.metrics)


def create_app(settings: CollectorSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    broker = make_broker(settings, service=SERVICE, registry=registry)
    publisher = EventPublisher(broker, settings, [kind.event_class for kind in ALL_KINDS])
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    wiring = wire_intake(
        settings,
        publisher=publisher,
        metrics=CollectorMetrics(registry),
        mappings=MongoMappingStore(client, settings.mongodb_database),
        cursors=MongoCursorStore(client, settings.mongodb_database),
        leases=MongoLeaseStore(client, settings.mongodb_database),
    )

    async def load_integrations() -> None:
        if settings.integrations_file is None and not settings.allow_unauthenticated:
            raise RuntimeError(
                "BOUCLE_COLLECTOR_INTEGRATIONS_FILE is not set: refusing to open the intake API "
                "without API keys. Set it, or BOUCLE_COLLECTOR_ALLOW_UNAUTHENTICATED=true for "
                "local development."
            )
        wiring.integrations.load()
        await wiring.managed.refresh()  # MongoDB must answer: mappings are part of the config

    async def close_client() -> None:
        await client.close()

    published_topics = {kind.event_class.TOPIC for kind in ALL_KINDS}
    app = service_app(
        name="Boucle collector",
        version=__version__,
        description="Takes feedback, complaints, hazards, enrolments and dropouts in, "
        "from its own API, bulk NDJSON and the signed webhooks of survey platforms.",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in published_topics],
        routers=wiring.routers,
        checks={"mongodb": mongo_ping(client)},
        on_startup=[load_integrations],
        on_shutdown=[close_client],
        background=[
            wiring.integrations.watcher(settings.integrations_reload_seconds),
            wiring.managed.refresher(settings.mappings_refresh_seconds),
            wiring.pull.loop(settings.limesurvey_poll_seconds),
        ],
    )
    install_intake(app, settings, wiring)
    return app
