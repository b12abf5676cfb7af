"""Prometheus metrics of the analyzer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class AnalyzerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "boucle_analyzer_events",
            "Input events by outcome (applied, redelivered, duplicate).",
            ["event_type", "outcome"],
            registry=registry,
        )
        self.snapshots = Counter(
            "boucle_analyzer_snapshots_published",
            "ScopeMetricsUpdated events published.",
            registry=registry,
        )
