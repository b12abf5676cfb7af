"""Consumer lag per topic partition, as Prometheus gauges: how far each group is behind.

Read from each subscriber's own aiokafka consumer (high watermark minus position), so it
costs no extra connection. Alert rules watch ``boucle_consumer_lag_messages``.
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Gauge

from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)


class LagMonitor:
    def __init__(self, broker: KafkaBroker, registry: CollectorRegistry) -> None:
        self._broker = broker
        self._lag = Gauge(
            "boucle_consumer_lag_messages",
            "Messages not yet consumed by the group, per topic partition.",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self._reported: set[tuple[str, str, str]] = set()

    async def sample(self) -> int:
        """Update the gauges from every running consumer; returns the total lag seen.

        Partitions this replica no longer owns (after a rebalance) lose their gauge, so a
        stale value never lingers beside the new owner's.
        """
        total = 0
        seen: set[tuple[str, str, str]] = set()
        for subscriber in self._broker.subscribers:
            consumer: Any = getattr(subscriber, "consumer", None)
            group = getattr(consumer, "_group_id", None) if consumer is not None else None
            if consumer is None or group is None:
                continue
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is None:
                    continue  # no fetch yet on this partition
                lag = max(0, highwater - await consumer.position(partition))
                labels = (group, partition.topic, str(partition.partition))
                self._lag.labels(*labels).set(lag)
                seen.add(labels)
                total += lag
        for labels in self._reported - seen:
            self._lag.remove(*labels)
        self._reported = seen
        return total

    def loop(self, interval_seconds: float = 10.0) -> BackgroundLoop:
        """Sample every ``interval_seconds`` while the service is up; never fatal."""
        return every(interval_seconds, self._sample_step, name="lag_sampling")

    async def _sample_step(self) -> None:
        await self.sample()
