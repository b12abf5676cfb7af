"""The analyzer's subscriber on FastStream's in-memory broker: events reach the aggregates.

The test broker always reports offset 0, so positions differ here only by partition.
"""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import InMemoryAggregateStore, InMemoryCommentStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler, subscribe
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC, SurveyResponseSubmittedV1
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit
TAXONOMIES = load_catalog(None, None)

SETTINGS = ServiceSettings(topic_prefix="unit.")


async def test_a_published_response_is_aggregated_with_its_kafka_position() -> None:
    broker = KafkaBroker()
    registry = CollectorRegistry()
    store = InMemoryAggregateStore()
    consumers = Consumers(broker, SETTINGS, group="boucle-analyzer", registry=registry)
    subscribe(
        consumers,
        InputHandler(
            store=store,
            comments=InMemoryCommentStore(),
            classifier=Classifier(PlainAnalyser(), TAXONOMIES),
            metrics=AnalyzerMetrics(registry),
        ),
    )
    consumers.attach()
    event = example_of(SurveyResponseSubmittedV1)
    topic = SETTINGS.topic(TOPIC)

    async with TestKafkaBroker(broker) as br:
        for _ in range(2):  # the second is a redelivery of the same message
            await br.publish(
                event.to_json_bytes(),
                topic=topic,
                partition=4,
                key=event.partition_key,
                headers=wire.headers_for(event),
            )
        await br.publish(event.to_json_bytes(), topic=topic, partition=5)  # re-published

    assert store.received == {event.id: Position(topic, 4, 0)}
    snapshots = await store.pending_snapshots(limit=100)
    assert len(snapshots) == 12
    assert all(s.responses == 1 and s.revision == 1 for s in snapshots)
    outcomes = {
        outcome: registry.get_sample_value(
            "boucle_analyzer_events_total", {"event_type": event.type, "outcome": outcome}
        )
        for outcome in ("new", "redelivery", "duplicate")
    }
    assert outcomes == {"new": 1, "redelivery": 1, "duplicate": 1}
