"""Consumer lag gauges on a real broker: up while a group is behind, zero once caught up."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import TOPICS
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import ensure_topics, make_broker
from boucle_runtime.lag import LagMonitor
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration
MESSAGES = 5


async def test_lag_is_reported_while_behind_and_clears_when_caught_up(
    kafka_bootstrap: str, isolation: str
) -> None:
    settings = ServiceSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=f"{isolation}.", topic_partitions=1
    )
    await ensure_topics(settings, [s for s in TOPICS if s.name == FEEDBACK_TOPIC])
    topic = settings.topic(FEEDBACK_TOPIC)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    event = example_of(SurveyResponseSubmittedV1)
    for index in range(MESSAGES):
        copy = event.model_copy(update={"id": f"evt-{index}"})
        headers = [(k, v.encode()) for k, v in wire.headers_for(copy).items()]
        await producer.send_and_wait(topic, copy.to_json_bytes(), key=b"k", headers=headers)
    await producer.stop()

    registry = CollectorRegistry()
    broker = make_broker(settings, service="lag-test", registry=registry)
    consumers = Consumers(broker, settings, group="boucle-lag-test", registry=registry)
    started, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def handle(event: SurveyResponseSubmittedV1) -> None:
        started.set()
        await release.wait()
        handled.append(event.id)

    consumers.attach()
    monitor = LagMonitor(broker, registry)
    labels = {"group": consumers.group, "topic": topic, "partition": "0"}
    await broker.start()
    try:
        async with asyncio.timeout(30):
            await started.wait()
            while await monitor.sample() == 0:  # highwater known once the first fetch is done
                await asyncio.sleep(0.1)
        behind = registry.get_sample_value("boucle_consumer_lag_messages", labels)
        assert behind is not None
        assert 1 <= behind <= MESSAGES

        release.set()
        async with asyncio.timeout(30):
            while len(handled) < MESSAGES or await monitor.sample() > 0:
                await asyncio.sleep(0.1)
        assert registry.get_sample_value("boucle_consumer_lag_messages", labels) == 0
    finally:
        release.set()
        await broker.stop()
