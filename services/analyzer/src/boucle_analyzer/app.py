"""Composition root of the analyzer: wiring only, nothing connects at import."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_analyzer import __version__
from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.adapters.mongo_comments import MongoCommentStore
from boucle_analyzer.adapters.mongo_degradations import MongoDegradationStore
from boucle_analyzer.adapters.mongo_erasure import MongoCommentEraser, MongoSubjectIndex
from boucle_analyzer.adapters.mongo_problems import MongoProblemStore
from boucle_analyzer.adapters.spacy_french import SpacyFrenchAnalyser
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.api import query_router
from boucle_analyzer.detection_runner import DetectionRunner
from boucle_analyzer.domain.detection import DetectionConfig
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.erasure import SubjectAwareInputHandler, analyzer_eraser, retention_loop
from boucle_analyzer.figures_publisher import SnapshotPublisher
from boucle_analyzer.handlers import subscribe
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.problem_runner import ProblemRunner
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS_TOPIC
from boucle_contracts.metrics.v1 import TOPIC as METRICS_TOPIC
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.privacy.v1 import TOPIC as PRIVACY_TOPIC
from boucle_contracts.problems.v1 import EVENTS as PROBLEM_EVENTS
from boucle_contracts.problems.v1 import TOPIC as PROBLEMS_TOPIC
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_contracts.signals.v1 import TOPIC as SIGNALS_TOPIC
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_contracts.training.v1 import TOPIC as TRAINING_TOPIC
from boucle_runtime.auth import TokenVerifier, install_access_errors, principal_dependency
from boucle_runtime.consumer import Consumers
from boucle_runtime.erasure import ErasureFollower, MongoErasedSubjects
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging, get_logger
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "analyzer"
log = get_logger(__name__)
TOPIC_NAMES = {
    PRIVACY_TOPIC,
    FEEDBACK_TOPIC,
    INCIDENTS_TOPIC,
    TRAINING_TOPIC,
    METRICS_TOPIC,
    SIGNALS_TOPIC,
    PROBLEMS_TOPIC,
}


def create_app(settings: AnalyzerSettings) -> FastAPI:
    """Every query route needs a bearer JWT and is narrowed to the caller's network, sites
    and period. Without an identity provider configured (``auth_jwks_url`` or
    ``auth_public_key``) every token is refused: the API fails closed."""
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    current = principal_dependency(TokenVerifier(settings))
    registry = CollectorRegistry()
    metrics = AnalyzerMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    store = MongoAggregateStore(client, settings.mongodb_database)
    comments = MongoCommentStore(client, settings.mongodb_database)
    degradations = MongoDegradationStore(client, settings.mongodb_database)
    problems = MongoProblemStore(client, settings.mongodb_database)
    taxonomies = load_catalog(settings.taxonomy_path, settings.taxonomy_overrides_dir)
    analyser = SpacyFrenchAnalyser(settings.french_model) if settings.french_model else None
    classifier = Classifier(analyser or PlainAnalyser(), taxonomies)

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    # Erasure (docs/privacy-register.md): whose comments an event holds, then erased on request.
    subjects = MongoSubjectIndex(client, settings.mongodb_database)
    comment_eraser = MongoCommentEraser(client, settings.mongodb_database)
    erasure = ErasureFollower(
        erase=analyzer_eraser(subjects, comment_eraser),
        erased=MongoErasedSubjects(client, settings.mongodb_database),
        service=SERVICE,
    )
    subscribe(
        consumers,
        SubjectAwareInputHandler(
            store=store,
            comments=comments,
            classifier=classifier,
            metrics=metrics,
            subjects=subjects,
            erasure=erasure,
        ),
        erasure,
    )
    consumers.attach()

    snapshots = SnapshotPublisher(
        store=store,
        publisher=EventPublisher(broker, settings, [ScopeMetricsUpdatedV1]),
        metrics=metrics,
        batch_size=settings.snapshot_batch_size,
    )
    grouping = ProblemRunner(
        problems=problems,
        comments=comments,
        publisher=EventPublisher(broker, settings, list(PROBLEM_EVENTS)),
    )
    detector = DetectionRunner(
        problems=grouping,
        figures=store,
        degradations=degradations,
        comments=comments,
        publisher=EventPublisher(broker, settings, [DegradationDetectedV1, DegradationResolvedV1]),
        metrics=metrics,
        config=DetectionConfig(alpha=settings.detection_alpha),
        max_weeks_per_run=settings.detection_max_weeks_per_run,
        grace=timedelta(hours=settings.detection_grace_hours),
    )

    async def create_indexes() -> None:
        await store.prepare()
        await comments.create_indexes()
        await degradations.create_indexes()
        await problems.create_indexes()
        await subjects.create_indexes()
        if analyser is not None:  # seconds of CPU: off the event loop, before consuming
            await asyncio.to_thread(analyser.load)

    async def close_client() -> None:
        await client.close()

    if not (settings.auth_jwks_url or settings.auth_public_key):
        log.warning("analyzer_api_refuses_all", reason="neither auth_jwks_url nor auth_public_key")
    app = service_app(
        name="Boucle analyzer",
        version=__version__,
        description=(
            "Aggregates feedback, incidents and training events per scope and period; "
            "flags degradations; classifies comments into themes. Every /v1 route needs a "
            "bearer JWT."
        ),
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in TOPIC_NAMES],
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[
            query_router(
                figures=store, degradations=degradations, comments=comments, principal=current
            )
        ],
        on_startup=[create_indexes],
        on_shutdown=[close_client],
        background=[
            snapshots.loop(settings.snapshot_interval_seconds),
            detector.loop(settings.detection_interval_seconds),
            retention_loop(
                subjects,
                comment_eraser,
                responses_days=settings.retention_responses_days,
                complaints_days=settings.retention_complaints_days,
                interval_seconds=settings.retention_interval_seconds,
            ),
        ],
    )
    install_access_errors(app)
    return app
