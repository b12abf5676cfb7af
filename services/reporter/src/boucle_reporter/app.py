"""Composition root of the reporter: wiring only, nothing connects at import."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, params
from prometheus_client import CollectorRegistry

from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_reporter import __version__
from boucle_reporter.access import principal_access, principal_admin
from boucle_reporter.adapters.mongo import MongoBuildStore, MongoEvidenceLog, MongoReadModel
from boucle_reporter.api import reports_router
from boucle_reporter.builds import BuildService
from boucle_reporter.erase import SubjectEraser, retention_loop, subject_eraser
from boucle_reporter.evidence_api import evidence_router
from boucle_reporter.handlers import EvidenceRecorder, subscribe
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.settings import ReporterSettings
from boucle_reporter.signing import key_ring
from boucle_runtime.auth import TokenVerifier, install_access_errors, principal_dependency
from boucle_runtime.consumer import Consumers
from boucle_runtime.erasure import ErasureFollower, MongoErasedSubjects
from boucle_runtime.kafka import make_broker
from boucle_runtime.logging import configure_logging, get_logger
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "reporter"
log = get_logger(__name__)


def create_app(
    settings: ReporterSettings, *, dependencies: Sequence[params.Depends] = ()
) -> FastAPI:
    """``dependencies``: more guards on every reporter route.

    Every route needs a bearer JWT and is narrowed to the caller's network, sites and
    period. Without an identity provider configured (``auth_jwks_url`` or
    ``auth_public_key``) every token is refused: the API fails closed.
    """
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    principal = principal_dependency(TokenVerifier(settings))
    access, admin = principal_access(principal), principal_admin(principal)
    keys = key_ring(settings)
    if keys.signer is None:
        log.warning("evidence_heads_unsigned", reason="no evidence_signing_key configured")
    registry = CollectorRegistry()
    metrics = ReporterMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    evidence = MongoEvidenceLog(client, settings.mongodb_database, signer=keys.signer)
    read_model = MongoReadModel(client, settings.mongodb_database)
    store = MongoBuildStore(client, settings.mongodb_database)
    builds = BuildService(
        read_model=read_model,
        evidence=evidence,
        store=store,
        directory=settings.builds_dir,
        metrics=metrics,
        key=keys.evidence_key,
    )

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    recorder = EvidenceRecorder(
        evidence=evidence,
        read_model=read_model,
        metrics=metrics,
        erasure=ErasureFollower(
            erase=subject_eraser(evidence, read_model, builds),
            erased=MongoErasedSubjects(client, settings.mongodb_database),
            service=SERVICE,
        ),
    )
    subscribe(consumers, recorder)
    consumers.attach()

    async def close_client() -> None:
        await client.close()

    if not (settings.auth_jwks_url or settings.auth_public_key):
        log.warning("reporter_api_refuses_all", reason="neither auth_jwks_url nor auth_public_key")
    app = service_app(
        name="Boucle reporter",
        version=__version__,
        description="Audit evidence: tracking table, complaint register, reports, evidence pack.",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=TOPICS,
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[
            reports_router(
                read_model=read_model,
                evidence=evidence,
                builds=builds,
                metrics=metrics,
                access=access,
                dependencies=dependencies,
                heads_signed=keys.signer is not None,
            ),
            evidence_router(
                access=access,
                admin=admin,
                keys=keys,
                eraser=SubjectEraser(evidence, read_model),
                dependencies=dependencies,
            ),
        ],
        on_startup=[
            evidence.create_indexes,
            read_model.prepare,
            store.create_indexes,
            builds.resume,
        ],
        on_shutdown=[builds.stop, close_client],
        background=[retention_loop(evidence, settings)],
    )
    install_access_errors(app)
    return app
