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
        self.duplicates = Counter(
            "boucle_collector_duplicate_events",
            "Deliveries of an event this replica had just accepted: answered, not republished.",
            ["event_type", "channel"],
            registry=registry,
        )
        self.rejected = Counter(
            "boucle_collector_rejected_requests",
            "Requests or items refused, by reason and channel.",
            ["reason", "channel"],
            registry=registry,
        )
        self.unmapped = Counter(
            "boucle_collector_unmapped_answers",
            "Mapped answers whose value did not fit, kept raw in the event's unmapped list.",
            ["channel", "integration"],
            registry=registry,
        )
        self.dropped = Counter(
            "boucle_collector_dropped_answers",
            "Platform answers no mapping declares: not published (they may hold names).",
            ["channel", "integration", "form"],
            registry=registry,
        )
        self.kafka_errors = Counter(
            "boucle_collector_kafka_errors",
            "Publications Kafka did not acknowledge in time, by error type.",
            ["error"],
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "boucle_collector_publish_seconds",
            "Time until Kafka acknowledged an event.",
            registry=registry,
        )
        self.request_seconds = Histogram(
            "boucle_collector_request_seconds",
            "Time to answer an intake or webhook request, by channel and status code.",
            ["channel", "status"],
            registry=registry,
        )
        self.integrations_reloads = Counter(
            "boucle_collector_integrations_reloads",
            "Loads of the integrations file, by outcome (loaded, invalid).",
            ["outcome"],
            registry=registry,
        )

    def mapping_losses(
        self, channel: str, integration: str, form: str, *, unmapped: int, dropped: int
    ) -> None:
        """Answers kept raw (value off its mapping), answers dropped (no mapping declares them)."""
        if unmapped:
            self.unmapped.labels(channel, integration).inc(unmapped)
        if dropped:
            self.dropped.labels(channel, integration, form).inc(dropped)
