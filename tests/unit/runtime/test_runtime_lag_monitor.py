"""LagMonitor: gauges follow the partitions this replica owns, and drop those it lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from boucle_runtime.lag import LagMonitor

pytestmark = pytest.mark.unit


@dataclass
class FakeConsumer:
    """The part of AIOKafkaConsumer the monitor reads."""

    _group_id: str
    highwaters: dict[TopicPartition, int] = field(default_factory=dict)
    positions: dict[TopicPartition, int] = field(default_factory=dict)

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters.get(partition)

    async def position(self, partition: TopicPartition) -> int:
        return self.positions[partition]


@dataclass
class FakeSubscriber:
    consumer: FakeConsumer | None


@dataclass
class FakeBroker:
    subscribers: list[FakeSubscriber]


def _lag(registry: CollectorRegistry, partition: int) -> float | None:
    labels = {"group": "g", "topic": "t", "partition": str(partition)}
    return registry.get_sample_value("boucle_consumer_lag_messages", labels)


async def test_gauges_follow_assignment_and_stale_partitions_disappear() -> None:
    p0, p1 = TopicPartition("t", 0), TopicPartition("t", 1)
    consumer = FakeConsumer("g", highwaters={p0: 10, p1: 7}, positions={p0: 4, p1: 7})
    registry = CollectorRegistry()
    monitor = LagMonitor(
        cast(Any, FakeBroker([FakeSubscriber(consumer), FakeSubscriber(None)])), registry
    )

    assert await monitor.sample() == 6
    assert (_lag(registry, 0), _lag(registry, 1)) == (6, 0)

    # A rebalance moves partition 0 to another replica.
    del consumer.positions[p0]
    assert await monitor.sample() == 0
    assert _lag(registry, 0) is None, "a partition we no longer own must not keep its old value"
    assert _lag(registry, 1) == 0


async def test_partitions_not_fetched_yet_are_not_reported() -> None:
    p0 = TopicPartition("t", 0)
    consumer = FakeConsumer("g", positions={p0: 0})
    registry = CollectorRegistry()
    monitor = LagMonitor(cast(Any, FakeBroker([FakeSubscriber(consumer)])), registry)

    assert await monitor.sample() == 0
    assert _lag(registry, 0) is None
