"""Prometheus metrics of the reporter."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ReporterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.evidence = Counter(
            "boucle_reporter_evidence_events",
            "Events recorded as evidence, by outcome (recorded, duplicate).",
            ["event_type", "outcome"],
            registry=registry,
        )
        self.exports = Counter(
            "boucle_reporter_exports",
            "Documents produced, by kind.",
            ["kind"],
            registry=registry,
        )
