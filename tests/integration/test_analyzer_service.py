"""The analyzer app on the real broker and database: exact aggregates whatever the delivery.

The app runs in-process (its lifespan: topics, indexes, broker, background loops). Events
of every input type are published with duplicates (same event id at another offset); the
app is stopped mid-stream and started again, then the group is rewound to the earliest
offsets so that everything is delivered a second time. Each time the aggregates must equal
an oracle: the same events applied once each, in memory.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from boucle_analyzer.adapters.memory import (
    InMemoryAggregateStore,
    InMemoryCommentStore,
    InMemoryFigureReader,
)
from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.app import create_app
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import FigureQuery, Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputEvent, InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts import kafka as wire
from boucle_contracts.common import RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    Comment,
    NpsAnswer,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.incidents.v1 import ComplaintReceived, ComplaintReceivedV1, ReceptionChannel
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.training.v1 import (
    DropoutReason,
    DropoutRecorded,
    DropoutRecordedV1,
    EnrolmentRecorded,
    EnrolmentRecordedV1,
)

pytestmark = pytest.mark.integration
NETWORK = "reseau-test"
PARTITIONS = 3
START = datetime(2025, 3, 3, 8, tzinfo=UTC)
TIMEOUT_SECONDS = 150.0


def _events(rng: random.Random, count: int) -> list[InputEvent]:
    events: list[InputEvent] = []
    for number in range(count):
        site = rng.choice(["lyon", "lille", "nantes"])
        at = START + timedelta(hours=rng.randrange(24 * 40))
        training = TrainingRef(programme_id=rng.choice(["p1", "p2"]), trainer_ids=("t1",))
        kind = rng.random()
        common: dict[str, Any] = {
            "network_id": NETWORK,
            "site_id": site,
            "source": "/test",
            "event_id": f"evt-{number}",
            "time": at,
        }
        if kind < 0.6:
            events.append(
                SurveyResponseSubmittedV1.create(
                    data=SurveyResponseSubmitted(
                        response_id=f"r-{number}",
                        survey_id="s",
                        survey_kind=SurveyKind.HOT,
                        respondent_role=rng.choice(list(RespondentRole)),
                        submitted_at=at,
                        channel="api",
                        training=training,
                        answers=(
                            ScaleAnswer(type="scale", question_id="q1", value=rng.randint(1, 5)),
                            ScaleAnswer(
                                type="scale",
                                question_id="q2",
                                dimension="platform",
                                value=rng.randint(0, 10),
                                scale_min=0,
                                scale_max=10,
                            ),
                            NpsAnswer(type="nps", question_id="q3", value=rng.randint(0, 10)),
                        ),
                        comments=(
                            Comment(comment_id=f"c-{number}", text="La plateforme ne marche pas"),
                        )
                        if rng.random() < 0.3
                        else (),
                    ),
                    **common,
                )
            )
        elif kind < 0.75:
            events.append(
                ComplaintReceivedV1.create(
                    data=ComplaintReceived(
                        complaint_id=f"rec-{number}",
                        received_at=at,
                        channel=ReceptionChannel.EMAIL,
                        complainant_role=StakeholderRole.LEARNER,
                        subject="Salle",
                        description="Salle trop froide",
                        training=training,
                    ),
                    **common,
                )
            )
        elif kind < 0.9:
            events.append(
                EnrolmentRecordedV1.create(
                    data=EnrolmentRecorded(
                        enrolment_id=f"e-{number}",
                        learner_ref=f"l-{number}",
                        enrolled_at=at,
                        training=training,
                    ),
                    **common,
                )
            )
        else:
            events.append(
                DropoutRecordedV1.create(
                    data=DropoutRecorded(
                        enrolment_id=f"e-{number}",
                        learner_ref=f"l-{number}",
                        dropped_at=at,
                        reason=rng.choice(list(DropoutReason)),
                        training=training,
                    ),
                    **common,
                )
            )
    return events


async def _oracle(events: list[InputEvent]) -> dict[str, ScopeMetricsUpdated]:
    store = InMemoryAggregateStore()
    handler = InputHandler(
        store=store,
        comments=InMemoryCommentStore(),
        classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
        metrics=AnalyzerMetrics(CollectorRegistry()),
    )
    for offset, event in enumerate(events):
        await handler.handle(event, Position("oracle", 0, offset))
    return await _figures(InMemoryFigureReader(store))


async def _figures(reader: Any) -> dict[str, ScopeMetricsUpdated]:
    found: dict[str, ScopeMetricsUpdated] = {}
    for granularity in Granularity:
        query = FigureQuery(network_id=NETWORK, granularity=granularity, limit=100_000)
        for snapshot in await reader.figures(query=query):
            found[snapshot.key] = snapshot.model_copy(update={"last_event_id": "-"})
    return found


@pytest.fixture
def settings(kafka_bootstrap: str, mongodb_uri: str, isolation: str) -> AnalyzerSettings:
    return AnalyzerSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        mongodb_database=f"analyzer_{isolation}",
        topic_prefix=f"{isolation}.",
        topic_partitions=PARTITIONS,
        snapshot_interval_seconds=0.5,
        detection_interval_seconds=3600,
        graceful_timeout_seconds=10,
    )


@pytest.fixture
async def mongo(settings: AnalyzerSettings) -> AsyncIterator[MongoAggregateStore]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    yield MongoAggregateStore(client, settings.mongodb_database)
    await client.drop_database(settings.mongodb_database)
    await client.close()


async def _publish(settings: AnalyzerSettings, events: list[InputEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                settings.topic(event.TOPIC),
                event.to_json_bytes(),
                key=event.partition_key,
                headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
            )
    finally:
        await producer.stop()


async def _until(what: str, probe: Any) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await probe():
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


async def _rewind_group(settings: AnalyzerSettings, topics: list[str]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.topic(settings.consumer_group),
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.commit(dict.fromkeys(partitions, 0))
    finally:
        await consumer.stop()


async def test_aggregates_stay_exact_through_duplicates_restart_and_rewind(
    settings: AnalyzerSettings, mongo: MongoAggregateStore
) -> None:
    rng = random.Random(4)
    events = _events(rng, 100)
    expected = await _oracle(events)
    first, second = events[:70], events[70:]
    republished = rng.sample(first, 15)  # same ids, new offsets
    received = mongo._db["received_events"]  # the ledger tells progress

    async def exact() -> bool:
        return await _figures(mongo) == expected

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _publish(settings, first + republished)

        async def some_applied() -> bool:
            return await received.count_documents({}) >= 20

        await _until("some events applied", some_applied)
    # Stopped mid-stream (most likely): publish the rest while nobody consumes.
    await _publish(settings, second + rng.sample(second, 5))

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _until("aggregates equal to the oracle after the restart", exact)
    assert await received.count_documents({}) == len(events)

    topics = sorted({settings.topic(e.TOPIC) for e in events})
    await _rewind_group(settings, topics)
    app = create_app(settings)
    async with app.router.lifespan_context(app):

        async def consumed_again() -> bool:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                group_id=settings.topic(settings.consumer_group),
            )
            await consumer.start()
            try:
                committed = [
                    await consumer.committed(TopicPartition(t, p))
                    for t in topics
                    for p in range(PARTITIONS)
                ]
            finally:
                await consumer.stop()
            return sum(c or 0 for c in committed) == len(events) + 20

        await _until("every message delivered again", consumed_again)
        assert await _figures(mongo) == expected

        async def published() -> bool:
            return not await mongo.pending_snapshots(limit=1)

        await _until("every changed aggregate published", published)
