"""Composition root of the actions service: wiring only, nothing connects at import."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_actions import __version__
from boucle_actions.adapters.mongo import MongoCaseRepository, MongoKpiRepository
from boucle_actions.api import read_router
from boucle_actions.handlers import CaseIntake, KpiIntake, deadlines_of, subscribe
from boucle_actions.metrics import ActionsMetrics
from boucle_actions.settings import ActionsSettings
from boucle_contracts.cases.v1 import TOPIC as CASES_TOPIC
from boucle_contracts.cases.v1 import ComplaintCaseOpenedV1
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS_TOPIC
from boucle_contracts.metrics.v1 import TOPIC as METRICS_TOPIC
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.service import service_app

SERVICE = "actions"


def create_app(settings: ActionsSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = ActionsMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    cases = MongoCaseRepository(client, settings.mongodb_database)
    kpis = MongoKpiRepository(client, settings.mongodb_database)

    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    subscribe(
        consumers,
        CaseIntake(
            cases=cases,
            publisher=EventPublisher(broker, settings, [ComplaintCaseOpenedV1]),
            deadlines=deadlines_of(settings.acknowledge_within_hours, settings.answer_within_days),
            metrics=metrics,
        ),
        KpiIntake(kpis=kpis, metrics=metrics),
    )
    consumers.attach()

    async def close_client() -> None:
        await client.close()

    return service_app(
        name="Boucle actions",
        version=__version__,
        description="Complaint cases and improvement plans, from signal to proven effect.",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[
            spec for spec in TOPICS if spec.name in {INCIDENTS_TOPIC, METRICS_TOPIC, CASES_TOPIC}
        ],
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[read_router(cases=cases, kpis=kpis)],
        on_startup=[cases.create_indexes, kpis.create_indexes],
        on_shutdown=[close_client],
    )
