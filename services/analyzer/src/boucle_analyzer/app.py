"""Composition root of the analyzer: wiring only, nothing connects at import."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_analyzer import __version__
from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.handlers import FeedbackHandler, SnapshotPublisher, subscribe
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.metrics.v1 import TOPIC as METRICS_TOPIC
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "analyzer"


def create_app(settings: AnalyzerSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = AnalyzerMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    store = MongoAggregateStore(client, settings.mongodb_database)

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    subscribe(consumers, FeedbackHandler(store=store, metrics=metrics))
    consumers.attach()

    snapshots = SnapshotPublisher(
        store=store,
        publisher=EventPublisher(broker, settings, [ScopeMetricsUpdatedV1]),
        metrics=metrics,
        batch_size=settings.snapshot_batch_size,
    )

    async def publish_snapshots(stopping: asyncio.Event) -> None:
        await snapshots.run(stopping, settings.snapshot_interval_seconds)

    async def close_client() -> None:
        await client.close()

    return service_app(
        name="Boucle analyzer",
        version=__version__,
        description="Aggregates feedback per scope and period; flags degradations.",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in {FEEDBACK_TOPIC, METRICS_TOPIC}],
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        on_startup=[store.create_indexes],
        on_shutdown=[close_client],
        background=[publish_snapshots],
    )
