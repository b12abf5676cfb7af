"""Prometheus metrics of the actions service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

HOUR = 3600.0
DAY = 24 * HOUR


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
        self.deadline_breaches = Counter(
            "boucle_actions_deadline_breaches",
            "Case deadlines missed (each announced once), by deadline.",
            ["deadline"],
            registry=registry,
        )
        self.drafts = Counter(
            "boucle_actions_drafts_from_degradations",
            "Improvement actions drafted from a detected degradation.",
            registry=registry,
        )
        buckets = (HOUR, 6 * HOUR, DAY, 2 * DAY, 4 * DAY, 7 * DAY, 15 * DAY, 30 * DAY, 60 * DAY)
        self.time_to_acknowledge = Histogram(
            "boucle_actions_time_to_acknowledge_seconds",
            "From a case's opening to its acknowledgement.",
            buckets=buckets,
            registry=registry,
        )
        self.time_to_answer = Histogram(
            "boucle_actions_time_to_answer_seconds",
            "From a case's opening to the answer given.",
            buckets=buckets,
            registry=registry,
        )
        self.open_cases = self._by_site("boucle_actions_open_cases", "Cases not closed.", registry)
        self.overdue_cases = self._by_site(
            "boucle_actions_overdue_cases", "Open cases past a deadline.", registry
        )
        self.open_actions = self._by_site(
            "boucle_actions_open_actions",
            "Improvement actions neither effective nor cancelled.",
            registry,
        )
        self.overdue_actions = self._by_site(
            "boucle_actions_overdue_actions",
            "Unfinished improvement actions past their due date.",
            registry,
        )

    @staticmethod
    def _by_site(name: str, documentation: str, registry: CollectorRegistry) -> Gauge:
        return Gauge(name, documentation, ["network", "site"], registry=registry)
