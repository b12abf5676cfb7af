"""Prometheus metrics of the actions service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ActionsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.cases_opened = Counter(
            "boucle_actions_cases_opened",
            "Complaint and incident cases opened.",
            ["source"],
            registry=registry,
        )
        self.kpi_snapshots = Counter(
            "boucle_actions_kpi_snapshots",
            "Analyzer snapshots by outcome (stored, stale).",
            ["outcome"],
            registry=registry,
        )
