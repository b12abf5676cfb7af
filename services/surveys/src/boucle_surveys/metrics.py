"""Prometheus metrics of the surveys service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class SurveysMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.planned = Counter(
            "boucle_surveys_solicitations_planned_total",
            "Solicitations planned from training facts and yearly rules.",
            registry=registry,
        )
        self.mails = Counter(
            "boucle_surveys_mails_total",
            "E-mails by step (send, remind) and outcome (sent, failed, skipped_claimed).",
            ["step", "outcome"],
            registry=registry,
        )
        self.closed = Counter(
            "boucle_surveys_solicitations_closed_total",
            "Solicitations closed without an answer, by reason.",
            ["reason"],
            registry=registry,
        )
        self.answered = Counter(
            "boucle_surveys_solicitations_answered_total",
            "Solicitations closed by a response, by survey kind.",
            ["survey_kind"],
            registry=registry,
        )
        self.unsolicited = Counter(
            "boucle_surveys_unsolicited_responses_total",
            "Responses that matched no solicitation (shared links, surveys outside the plan).",
            registry=registry,
        )
