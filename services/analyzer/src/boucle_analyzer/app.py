"""Composition root of the analyzer: wiring only, nothing connects at import."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_analyzer import __version__
from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.adapters.mongo_signals import MongoCommentStore, MongoEpisodeStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.api import query_router
from boucle_analyzer.domain.detection import DetectionConfig
from boucle_analyzer.handlers import DetectionRunner, InputHandler, SnapshotPublisher, subscribe
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS_TOPIC
from boucle_contracts.metrics.v1 import TOPIC as METRICS_TOPIC
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_contracts.signals.v1 import TOPIC as SIGNALS_TOPIC
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_contracts.training.v1 import TOPIC as TRAINING_TOPIC
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "analyzer"
TOPIC_NAMES = {FEEDBACK_TOPIC, INCIDENTS_TOPIC, TRAINING_TOPIC, METRICS_TOPIC, SIGNALS_TOPIC}


def create_app(settings: AnalyzerSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = AnalyzerMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    store = MongoAggregateStore(client, settings.mongodb_database)
    comments = MongoCommentStore(client, settings.mongodb_database)
    episodes = MongoEpisodeStore(client, settings.mongodb_database)
    taxonomies = load_catalog(settings.taxonomy_path, settings.taxonomy_overrides_dir)

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    subscribe(
        consumers,
        InputHandler(store=store, comments=comments, taxonomies=taxonomies, metrics=metrics),
    )
    consumers.attach()

    snapshots = SnapshotPublisher(
        store=store,
        publisher=EventPublisher(broker, settings, [ScopeMetricsUpdatedV1]),
        metrics=metrics,
        batch_size=settings.snapshot_batch_size,
    )
    detector = DetectionRunner(
        figures=store,
        episodes=episodes,
        comments=comments,
        publisher=EventPublisher(broker, settings, [DegradationDetectedV1, DegradationResolvedV1]),
        metrics=metrics,
        config=DetectionConfig(alpha=settings.detection_alpha),
        max_weeks_per_run=settings.detection_max_weeks_per_run,
        grace=timedelta(hours=settings.detection_grace_hours),
    )

    async def publish_snapshots(stopping: asyncio.Event) -> None:
        await snapshots.run(stopping, settings.snapshot_interval_seconds)

    async def detect_degradations(stopping: asyncio.Event) -> None:
        await detector.run(stopping, settings.detection_interval_seconds)

    async def create_indexes() -> None:
        await store.prepare()
        await comments.create_indexes()
        await episodes.create_indexes()

    async def close_client() -> None:
        await client.close()

    return service_app(
        name="Boucle analyzer",
        version=__version__,
        description=(
            "Aggregates feedback, incidents and training events per scope and period; "
            "flags degradations; classifies comments into themes."
        ),
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in TOPIC_NAMES],
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[query_router(figures=store, episodes=episodes, comments=comments)],
        on_startup=[create_indexes],
        on_shutdown=[close_client],
        background=[publish_snapshots, detect_degradations],
    )
