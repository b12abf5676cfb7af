"""EventPublisher: structured-mode CloudEvents on the event's topic, keyed by site."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import decode_event
from boucle_runtime.kafka import EventPublisher, correlation_of
from boucle_runtime.settings import ServiceSettings
from boucle_runtime.specs import asyncapi_document

pytestmark = pytest.mark.unit

SETTINGS = ServiceSettings(topic_prefix="unit.")


@dataclass
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]


async def test_events_go_to_their_prefixed_topic_as_structured_cloudevents() -> None:
    broker = KafkaBroker()
    publisher = EventPublisher(
        broker, SETTINGS, [ComplaintReceivedV1, HazardReportedV1, SurveyResponseSubmittedV1]
    )
    records: list[Record] = []

    @broker.subscriber(SETTINGS.topic("boucle.incidents.v1"), SETTINGS.topic("boucle.feedback.v1"))
    async def read(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        headers = {k: v.decode() for k, v in record.headers}
        records.append(Record(record.topic, record.key, record.value or b"", headers))

    complaint, hazard = example_of(ComplaintReceivedV1), example_of(HazardReportedV1)
    network_wide = example_of(SurveyResponseSubmittedV1).model_copy(update={"site_id": None})
    async with TestKafkaBroker(broker):
        for event in (complaint, hazard, network_wide):
            await publisher.publish(event)

    assert [r.topic for r in records] == [
        "unit.boucle.incidents.v1",
        "unit.boucle.incidents.v1",
        "unit.boucle.feedback.v1",
    ]
    first = records[0]
    assert decode_event(first.value) == complaint
    assert first.key == b"reseau-horizon/lyon-part-dieu"
    assert first.headers[wire.HEADER_CONTENT_TYPE] == wire.CONTENT_TYPE
    assert first.headers[wire.HEADER_TYPE] == complaint.type
    assert first.headers[wire.HEADER_ID] == complaint.id
    assert records[2].key == b"reseau-horizon", "network-wide events are keyed by network"


async def test_an_event_class_not_declared_cannot_be_published() -> None:
    publisher = EventPublisher(KafkaBroker(), SETTINGS, [ComplaintReceivedV1])

    with pytest.raises(KeyError):
        await publisher.publish(example_of(ScopeMetricsUpdatedV1))


async def test_the_correlation_id_header_is_the_events_correlationid() -> None:
    """FastStream wrote a random ``correlation_id`` header the AsyncAPI documents declare."""
    broker = KafkaBroker()
    publisher = EventPublisher(broker, SETTINGS, [ComplaintReceivedV1])
    seen: list[tuple[str, str | None]] = []

    @broker.subscriber(SETTINGS.topic("boucle.incidents.v1"))
    async def read(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        headers = {k: v.decode() for k, v in record.headers}
        seen.append((headers["correlation_id"], message.correlation_id))

    flow = example_of(ComplaintReceivedV1).model_copy(update={"correlation_id": "flow-42"})
    alone = example_of(ComplaintReceivedV1).model_copy(
        update={"id": "evt-alone", "correlation_id": None}
    )
    async with TestKafkaBroker(broker):
        await publisher.publish(flow)
        await publisher.publish(alone)

    assert seen == [("flow-42", "flow-42"), ("evt-alone", "evt-alone")]
    assert (
        correlation_of(flow)
        == flow.correlation_id
        == json.loads(flow.to_json_bytes())["correlationid"]
    )


def test_the_asyncapi_document_says_what_the_correlation_id_header_holds() -> None:
    broker = KafkaBroker()
    EventPublisher(broker, SETTINGS, [ComplaintReceivedV1])
    app = FastAPI(title="unit", version="0")
    app.state.broker = broker

    messages = asyncapi_document(app)["components"]["messages"]

    assert messages
    for message in messages.values():
        correlation = message["correlationId"]
        assert correlation["location"] == "$message.header#/correlation_id"
        assert "CloudEvents `correlationid`" in correlation["description"]
