"""Prometheus metrics of the collector."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class CollectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.accepted = Counter(
            "boucle_collector_accepted_events",
            "Events accepted (published and acknowledged by Kafka).",
            ["event_type", "channel"],
            registry=registry,
        )
        self.rejected = Counter(
            "boucle_collector_rejected_requests",
            "Requests refused, by reason.",
            ["reason"],
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "boucle_collector_publish_seconds",
            "Time until Kafka acknowledged an event.",
            registry=registry,
        )
