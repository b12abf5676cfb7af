"""Composition root of the collector: wiring only, nothing connects at import."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_collector import __version__
from boucle_collector.api import install_error_handlers, intake_router
from boucle_collector.domain.intake import ALL_KINDS
from boucle_collector.handlers import IntakeHandler
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.settings import CollectorSettings
from boucle_contracts.registry import TOPICS
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.service import service_app

SERVICE = "collector"


def create_app(settings: CollectorSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    broker = make_broker(settings, service=SERVICE, registry=registry)
    publisher = EventPublisher(broker, settings, [kind.event_class for kind in ALL_KINDS])
    handler = IntakeHandler(
        publisher=publisher,
        metrics=CollectorMetrics(registry),
        timeout_seconds=settings.publish_timeout_seconds,
    )
    published_topics = {kind.event_class.TOPIC for kind in ALL_KINDS}
    app = service_app(
        name="Boucle collector",
        version=__version__,
        description="Takes feedback, complaints, hazards, enrolments and dropouts in.",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in published_topics],
        routers=[intake_router(handler)],
    )
    install_error_handlers(app)
    return app
