"""Prometheus metrics of the analyzer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
AGE_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)


class AnalyzerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "boucle_analyzer_events",
            "Input events by outcome (new, redelivery, duplicate).",
            ["event_type", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "boucle_analyzer_processing_seconds",
            "Time to apply one input event (ledger, comments, aggregates).",
            ["event_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.event_age = Histogram(
            "boucle_analyzer_event_age_seconds",
            "Age of input events when applied (event time to now): a proxy for the lag.",
            buckets=AGE_BUCKETS,
            registry=registry,
        )
        self.snapshots = Counter(
            "boucle_analyzer_snapshots_published",
            "ScopeMetricsUpdated events published.",
            registry=registry,
        )
        self.degradations = Counter(
            "boucle_analyzer_degradations",
            "Degradations by transition (detected, resolved).",
            ["transition", "metric"],
            registry=registry,
        )
        self.degradations_open = Gauge(
            "boucle_analyzer_degradations_open",
            "Degradations open after the last detection run.",
            registry=registry,
        )
        self.weeks_evaluated = Counter(
            "boucle_analyzer_detection_evaluations",
            "Network-weeks evaluated by the degradation detection.",
            registry=registry,
        )
