"""One subscriber per consumer group, over every topic its event types travel on."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS_TOPIC
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import TOPIC as METRICS_TOPIC
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

SETTINGS = ServiceSettings(topic_prefix="t42.")


def test_group_and_dead_letter_topic_carry_the_topic_prefix() -> None:
    consumers = Consumers(
        KafkaBroker(), SETTINGS, group="boucle-actions", registry=CollectorRegistry()
    )

    assert consumers.group == "t42.boucle-actions"
    assert consumers.dead_letter_topic == "t42.boucle.deadletter.boucle-actions"


async def test_one_subscriber_receives_every_handled_type_from_every_topic() -> None:
    broker = KafkaBroker()
    consumers = Consumers(broker, SETTINGS, group="boucle-actions", registry=CollectorRegistry())
    received: list[AnyEvent] = []

    subscriber = consumers.subscriber(
        handles=[ComplaintReceivedV1, HazardReportedV1, ScopeMetricsUpdatedV1]
    )

    @subscriber
    async def handle(event: ComplaintReceivedV1 | HazardReportedV1 | ScopeMetricsUpdatedV1) -> None:
        received.append(event)

    consumers.attach()
    events: list[AnyEvent] = [
        example_of(ComplaintReceivedV1),
        example_of(HazardReportedV1),
        example_of(ScopeMetricsUpdatedV1),
    ]

    async with TestKafkaBroker(broker) as br:
        for event in events:
            await br.publish(
                event.to_json_bytes(),
                topic=SETTINGS.topic(event.TOPIC),
                key=event.partition_key,
                headers=wire.headers_for(event),
            )

    assert received == events
    assert [type(e) for e in received] == [
        ComplaintReceivedV1,
        HazardReportedV1,
        ScopeMetricsUpdatedV1,
    ]
    assert {t.name for t in subscriber.topics} == {
        SETTINGS.topic(INCIDENTS_TOPIC),
        SETTINGS.topic(METRICS_TOPIC),
    }
    assert subscriber.group_id == "t42.boucle-actions"


async def test_unprefixed_topics_are_not_consumed() -> None:
    broker = KafkaBroker()
    consumers = Consumers(broker, SETTINGS, group="boucle-actions", registry=CollectorRegistry())
    received: list[AnyEvent] = []

    @consumers.subscriber(handles=[ComplaintReceivedV1])
    async def handle(event: ComplaintReceivedV1) -> None:
        received.append(event)

    consumers.attach()
    complaint = example_of(ComplaintReceivedV1)

    async with TestKafkaBroker(broker) as br:
        await br.publish(complaint.to_json_bytes(), topic=INCIDENTS_TOPIC)

    assert received == []
