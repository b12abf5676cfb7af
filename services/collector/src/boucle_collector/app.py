"""Composition root of the collector: wiring only, nothing connects at import."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from boucle_collector import __version__
from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.adapters.limesurvey import LimeSurveyClient
from boucle_collector.adapters.mapping_cache import ManagedMappings
from boucle_collector.adapters.memory import (
    InMemoryCursorStore,
    InMemoryLeaseStore,
    InMemoryMappingStore,
)
from boucle_collector.adapters.mongo import MongoCursorStore, MongoLeaseStore, MongoMappingStore
from boucle_collector.adapters.spacy_names import SpacyNameDetector
from boucle_collector.adapters.webhook_formats.surveymonkey import SurveyMonkeyClient
from boucle_collector.domain.intake import ALL_KINDS
from boucle_collector.domain.limits import RateLimiter
from boucle_collector.domain.person_names import FreeTextRedactor, NameDetector
from boucle_collector.domain.ports import CursorStore, LeaseStore, MappingStore
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.referential import NAME_KINDS
from boucle_collector.entrypoints.bulk import bulk_router
from boucle_collector.entrypoints.erasures import erasure_router
from boucle_collector.entrypoints.errors import install_error_handlers
from boucle_collector.entrypoints.gate import Gate
from boucle_collector.entrypoints.imports import import_router
from boucle_collector.entrypoints.mappings import mappings_router
from boucle_collector.entrypoints.native import intake_router
from boucle_collector.entrypoints.referential import referential_router
from boucle_collector.entrypoints.webhooks import WebhookIntake, webhook_router
from boucle_collector.intake_publisher import IntakePublisher
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.middleware import IntakeLimits
from boucle_collector.pulls import LimeSurveyPull
from boucle_collector.settings import CollectorSettings
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1
from boucle_contracts.registry import TOPICS, AnyEvent
from boucle_runtime.kafka import EventPublisher, EventSink, make_broker
from boucle_runtime.logging import configure_logging, get_logger
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "collector"
log = get_logger(__name__)


async def freeze_startup_heap() -> None:
    """Move what start-up made (modules, models, schemas, settings) out of the garbage
    collector's reach: it lives as long as the process anyway, and every full collection
    walked all of it. During a 5,000-row import those collections, run by whichever thread
    allocates and holding the interpreter lock, stalled the event loop for up to 1.4 s on a
    busy machine; frozen, 0.15 s (``gc.freeze``, the Instagram recipe)."""
    gc.collect()
    gc.freeze()


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
    name_detector: NameDetector | None = None,
) -> IntakeWiring:
    """Routes of the native API, bulk intake, webhooks and mappings, and the LimeSurvey pull,
    publishing through ``publisher``; mappings managed through the API in ``mappings`` and
    pull cursors and lease in ``cursors`` and ``leases`` (in memory if None: tests); person
    names in free text found by ``name_detector`` (None: the rule and the respondent's own
    fields only; ``create_app`` builds it from the settings, see ``name_detector_for``)."""
    secret = settings.pseudonymisation_secret
    pseudonymiser = Pseudonymiser(secret.get_secret_value().encode()) if secret else None
    intake_publisher = IntakePublisher(
        sink=publisher,
        metrics=metrics,
        timeout_seconds=settings.publish_timeout_seconds,
        recent_ids=settings.recent_ids_capacity,
        redactor=FreeTextRedactor(name_detector, pseudonymiser),
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
    webhooks = WebhookIntake(
        publisher=intake_publisher,
        gate=gate,
        integrations=integrations,
        pseudonymiser=pseudonymiser,
        surveymonkey=SurveyMonkeyClient(
            base_url=settings.surveymonkey_base_url,
            timeout_seconds=settings.upstream_timeout_seconds,
        ),
        failures=RateLimiter(
            rate=settings.bad_signature_rate_per_second, burst=settings.bad_signature_burst
        ),
    )
    routers = [
        intake_router(intake_publisher, gate),
        bulk_router(intake_publisher, gate, max_items=settings.max_bulk_items),
        webhook_router(webhooks),
        import_router(
            intake_publisher, gate, max_rows=settings.max_import_rows, pseudonymiser=pseudonymiser
        ),
        mappings_router(gate, managed),
        referential_router(intake_publisher, gate, max_entries=settings.max_bulk_items),
        erasure_router(gate, publisher, pseudonymiser),
    ]
    pull = LimeSurveyPull(
        publisher=intake_publisher,
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


def name_detector_for(settings: CollectorSettings) -> SpacyNameDetector | None:
    """spaCy's French NER when ``name_detection`` is "model" (not loaded yet), else None."""
    if settings.name_detection == "model":
        return SpacyNameDetector(settings.name_detection_model)
    return None


def create_app(settings: CollectorSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    broker = make_broker(settings, service=SERVICE, registry=registry)
    kinds = (*ALL_KINDS, *NAME_KINDS)  # facts, and the referential of names
    # Facts and names, and erasure requests (entrypoints/erasures.py).
    events: list[type[AnyEvent]] = [*(k.event_class for k in kinds), SubjectErasureRequestedV1]
    publisher = EventPublisher(broker, settings, events)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    detector = name_detector_for(settings)
    wiring = wire_intake(
        settings,
        publisher=publisher,
        metrics=CollectorMetrics(registry),
        mappings=MongoMappingStore(client, settings.mongodb_database),
        cursors=MongoCursorStore(client, settings.mongodb_database),
        leases=MongoLeaseStore(client, settings.mongodb_database),
        name_detector=detector,
    )

    async def load_name_model() -> None:
        # Before readiness: the first texts must not wait 4-10 s for the pipeline, and a
        # missing model must stop the start, not every request. In a thread: the event
        # loop stays free meanwhile.
        if detector is not None:
            await asyncio.to_thread(detector.load)
            log.info("name_model_loaded", model=settings.name_detection_model)

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

    published_topics = {event.TOPIC for event in events}
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
        on_startup=[load_integrations, load_name_model, freeze_startup_heap],
        on_shutdown=[close_client],
        background=[
            wiring.integrations.watcher(settings.integrations_reload_seconds),
            wiring.managed.refresher(settings.mappings_refresh_seconds),
            wiring.pull.loop(settings.limesurvey_poll_seconds),
        ],
    )
    install_intake(app, settings, wiring)
    return app
