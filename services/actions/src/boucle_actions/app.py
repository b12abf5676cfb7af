"""Composition root of the actions service: wiring only, nothing connects at import."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_actions import __version__
from boucle_actions.adapters.mongo import (
    MongoActionRepository,
    MongoCaseRepository,
    MongoDeadlineSettings,
    MongoKpiRepository,
    MongoMeetingRepository,
    refresh_gauges,
)
from boucle_actions.adapters.mongo_erasure import MongoCaseSubjects, MongoCaseTexts
from boucle_actions.api.actions import action_router
from boucle_actions.api.cases import case_router
from boucle_actions.api.errors import install_error_handlers
from boucle_actions.api.kpis import kpi_router
from boucle_actions.api.meetings import meeting_router
from boucle_actions.domain.cases import deadlines_of
from boucle_actions.domain.effectiveness import EvaluationPolicy
from boucle_actions.erasure import SubjectAwareCaseIntake, actions_eraser, retention_loop
from boucle_actions.handlers import (
    DegradationIntake,
    KpiIntake,
    ProblemIntake,
    subscribe,
)
from boucle_actions.metrics import ActionsMetrics
from boucle_actions.settings import ActionsSettings, deadline_policy
from boucle_actions.sweeper import Sweeper
from boucle_actions.usecases.actions import ActionWorkflow
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.meetings import MeetingWorkflow
from boucle_actions.usecases.outbox import Relay
from boucle_contracts.actions.v1 import EVENTS as ACTION_EVENTS
from boucle_contracts.cases.v1 import EVENTS as CASE_EVENTS
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_runtime.auth import TokenVerifier, install_access_errors, principal_dependency
from boucle_runtime.consumer import Consumers
from boucle_runtime.erasure import ErasureFollower, MongoErasedSubjects
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "actions"
TOPIC_NAMES = {
    "boucle.privacy.v1",
    "boucle.incidents.v1",
    "boucle.metrics.v1",
    "boucle.signals.v1",
    "boucle.problems.v1",
    "boucle.cases.v1",
    "boucle.actions.v1",
}


def create_app(settings: ActionsSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = ActionsMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    db = settings.mongodb_database
    cases = MongoCaseRepository(client, db)
    actions = MongoActionRepository(client, db)
    meetings = MongoMeetingRepository(client, db)
    kpis = MongoKpiRepository(client, db)
    policy = deadline_policy(
        deadlines_of(settings.acknowledge_within_hours, settings.answer_within_days),
        settings.deadlines_file,
    )
    deadlines = MongoDeadlineSettings(client, db, fallback=policy.for_network)
    publisher = EventPublisher(broker, settings, [*CASE_EVENTS, *ACTION_EVENTS])
    relay = Relay(publisher)
    case_flow = CaseWorkflow(cases=cases, relay=relay, metrics=metrics)
    action_flow = ActionWorkflow(
        actions=actions,
        cases=case_flow,
        meetings=meetings,
        kpis=kpis,
        relay=relay,
        policy=EvaluationPolicy(
            window=timedelta(days=settings.evaluation_window_days),
            granularity=settings.evaluation_granularity,
            min_sample_size=settings.evaluation_min_sample_size,
            alpha=settings.evaluation_alpha,
            automatic=settings.evaluation_sweep,
        ),
    )
    meeting_flow = MeetingWorkflow(meetings=meetings, relay=relay)

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    # Erasure (docs/privacy-register.md): whose complaint a case answers, blanked on request.
    case_subjects = MongoCaseSubjects(client, db)
    case_texts = MongoCaseTexts(client, db)
    erasure = ErasureFollower(
        erase=actions_eraser(case_subjects, case_texts),
        erased=MongoErasedSubjects(client, db),
        service=SERVICE,
    )
    subscribe(
        consumers,
        SubjectAwareCaseIntake(
            cases=cases,
            publisher=publisher,
            deadlines=deadlines,
            metrics=metrics,
            subjects=case_subjects,
            erasure=erasure,
        ),
        KpiIntake(kpis=kpis, metrics=metrics),
        degradations=(
            None
            if settings.draft_per_problem
            else DegradationIntake(actions=action_flow, metrics=metrics)
        ),
        problems=(
            ProblemIntake(actions=action_flow, metrics=metrics)
            if settings.draft_per_problem
            else None
        ),
        erasure=erasure,
    )
    consumers.attach()

    async def gauges() -> None:
        await refresh_gauges(cases=cases, actions=actions, metrics=metrics)

    sweeper = Sweeper(
        cases=case_flow,
        actions=action_flow,
        meetings=meeting_flow,
        relay=relay,
        gauges=gauges,
    )
    current = principal_dependency(TokenVerifier(settings))

    async def close_client() -> None:
        await client.close()

    app = service_app(
        name="Boucle actions",
        version=__version__,
        description=(
            "Complaint cases (indicator 31) and improvement plans (indicator 32), from "
            "degradation to proven effect. Every /v1 route needs a bearer JWT."
        ),
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in TOPIC_NAMES],
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[
            case_router(cases=case_flow, deadlines=deadlines, principal=current),
            action_router(
                actions=action_flow, cases=case_flow, meetings=meeting_flow, principal=current
            ),
            meeting_router(meetings=meeting_flow, principal=current),
            kpi_router(kpis=kpis, principal=current),
        ],
        on_startup=[
            cases.create_indexes,
            actions.create_indexes,
            meetings.create_indexes,
            kpis.prepare,
            case_subjects.create_indexes,
        ],
        on_shutdown=[close_client],
        background=[
            sweeper.loop(settings.sweep_interval_seconds),
            retention_loop(
                case_subjects,
                case_texts,
                complaints_days=settings.retention_complaints_days,
                interval_seconds=settings.retention_interval_seconds,
            ),
        ],
    )
    install_access_errors(app)
    install_error_handlers(app)
    return app
