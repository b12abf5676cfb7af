"""Consumers on a real broker: retries of transient failures, dead letters, committed offsets."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry

from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import ensure_topics, make_broker
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

GROUP = "boucle-test-consumer"
KEY = b"net/site"  # one key: one partition, so the order below is the order consumed


@pytest.fixture
async def settings(kafka_bootstrap: str, isolation: str) -> ServiceSettings:
    settings = ServiceSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=f"{isolation}.", topic_partitions=2
    )
    await ensure_topics(
        settings, [s for s in TOPICS if s.name == FEEDBACK_TOPIC], extra=[dead_letter_topic(GROUP)]
    )
    return settings


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def _read(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        records: list[tuple[bytes, dict[str, str]]] = []
        async with asyncio.timeout(30):
            while len(records) < count:
                record = await consumer.getone()
                headers = {k: v.decode() for k, v in record.headers}
                records.append((record.value or b"", headers))
        return records
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, topic: str, partitions: int, group: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        offsets = [await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)]
        return sum(offset or 0 for offset in offsets)
    finally:
        await consumer.stop()


async def test_transient_failures_retry_poison_goes_to_dead_letters_and_offsets_follow_work(
    settings: ServiceSettings, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    registry = CollectorRegistry()
    broker = make_broker(settings, service="test", registry=registry)
    consumers = Consumers(broker, settings, group=GROUP, registry=registry)
    attempts: Counter[str] = Counter()
    processed: list[str] = []
    done = asyncio.Event()
    valid = example_of(SurveyResponseSubmittedV1)
    first = valid.model_copy(update={"id": "evt-first"})
    second = valid.model_copy(update={"id": "evt-second"})

    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def handle(event: SurveyResponseSubmittedV1) -> None:
        attempts[event.id] += 1
        if event.id == first.id and attempts[event.id] <= 2:
            raise ConnectionError("database briefly unavailable")
        processed.append(event.id)
        if len(processed) == 2:
            done.set()

    consumers.attach()
    topic = settings.topic(FEEDBACK_TOPIC)
    violation = first.to_json_bytes().replace(b'"survey_kind":"hot"', b'"survey_kind":"weekly"')

    def ce_headers(event: SurveyResponseSubmittedV1) -> list[tuple[str, bytes | None]]:
        return [(k, v.encode()) for k, v in wire.headers_for(event).items()]

    # Kafka allows null header values: the second valid event carries one.
    messages: list[tuple[bytes, list[tuple[str, bytes | None]]]] = [
        (first.to_json_bytes(), ce_headers(first)),
        (b"{not json", []),
        (violation, []),
        (second.to_json_bytes(), [*ce_headers(second), ("x-trace", None)]),
    ]
    for value, headers in messages:
        await producer.send_and_wait(topic, value, key=KEY, headers=headers)

    await broker.start()
    try:
        async with asyncio.timeout(60):
            await done.wait()
    finally:
        await broker.stop()

    assert processed == [first.id, second.id], (
        "each valid event is processed exactly once, in order"
    )
    assert attempts[first.id] == 3, "a transient failure is retried, not skipped"

    dead = await _read(kafka_bootstrap, consumers.dead_letter_topic, 2)
    assert [headers[wire.HEADER_DLQ_REASON] for _, headers in dead] == [
        "ValidationError",
        "ValidationError",
    ]
    assert dead[0][0] == b"{not json"
    assert "survey_kind" in dead[1][1][wire.HEADER_DLQ_ERROR]
    assert {headers[wire.HEADER_DLQ_TOPIC] for _, headers in dead} == {topic}
    assert (
        registry.get_sample_value(
            "boucle_dead_letters_total", {"group": consumers.group, "reason": "ValidationError"}
        )
        == 2
    )

    committed = await _committed(kafka_bootstrap, topic, 2, consumers.group)
    assert committed == 4, "offsets cover all four messages, and only once their work is done"


async def test_a_message_its_handler_keeps_failing_on_is_parked_and_the_partition_goes_on(
    settings: ServiceSettings, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    settings = settings.model_copy(
        update={"handler_max_attempts": 3, "handler_retry_backoff_seconds": 0.05}
    )
    registry = CollectorRegistry()
    broker = make_broker(settings, service="test", registry=registry)
    consumers = Consumers(broker, settings, group=GROUP, registry=registry)
    attempts: Counter[str] = Counter()
    processed: list[str] = []
    done = asyncio.Event()
    valid = example_of(SurveyResponseSubmittedV1)
    bad = valid.model_copy(update={"id": "evt-bad", "correlation_id": "flow-bad"})
    good = valid.model_copy(update={"id": "evt-good"})

    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def handle(event: SurveyResponseSubmittedV1) -> None:
        attempts[event.id] += 1
        if event.id == bad.id:
            raise LookupError("no site for respondent jeanne.martin@example.fr")
        processed.append(event.id)
        done.set()

    consumers.attach()
    topic = settings.topic(FEEDBACK_TOPIC)
    for event in (bad, good):
        sent = [(k, v.encode()) for k, v in wire.headers_for(event).items()]
        await producer.send_and_wait(topic, event.to_json_bytes(), key=KEY, headers=sent)

    await broker.start()
    try:
        async with asyncio.timeout(60):
            await done.wait()
    finally:
        await broker.stop()

    assert attempts[bad.id] == 3, "tried max_attempts times, each after a rewind"
    assert processed == [good.id], "the partition was not stalled by the failing message"
    ((value, headers),) = await _read(kafka_bootstrap, consumers.dead_letter_topic, 1)
    assert value == bad.to_json_bytes()
    assert headers[wire.HEADER_DLQ_REASON] == "HandlerFailed"
    assert headers["boucle_dlq_exception"] == "LookupError"
    assert headers["boucle_dlq_attempts"] == "3"
    assert headers[wire.HEADER_DLQ_ERROR] == "LookupError: no site for respondent [masked]"
    assert (
        registry.get_sample_value(
            "boucle_dead_letters_total", {"group": consumers.group, "reason": "HandlerFailed"}
        )
        == 1
    )
    assert await _committed(kafka_bootstrap, topic, 2, consumers.group) == 2
