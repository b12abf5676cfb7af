"""Composition root of the reporter: wiring only, nothing connects at import."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_reporter import __version__
from boucle_reporter.adapters.mongo import MongoReadModel
from boucle_reporter.api import reports_router
from boucle_reporter.handlers import EvidenceRecorder, subscribe
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.settings import ReporterSettings
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "reporter"


def create_app(settings: ReporterSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = ReporterMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    read_model = MongoReadModel(client, settings.mongodb_database)

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    subscribe(consumers, EvidenceRecorder(read_model=read_model, metrics=metrics))
    consumers.attach()

    async def close_client() -> None:
        await client.close()

    return service_app(
        name="Boucle reporter",
        version=__version__,
        description="Audit evidence: tracking table, complaint register, reports, evidence pack.",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=TOPICS,
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[reports_router(read_model=read_model, metrics=metrics)],
        on_startup=[read_model.create_indexes],
        on_shutdown=[close_client],
    )
