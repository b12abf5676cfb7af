"""The console's own metrics (HTTP requests are counted by the runtime's middleware)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ConsoleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sign_ins = Counter(
            "boucle_console_sign_ins",
            "Sign-ins through the identity provider, by outcome (ok, refused).",
            ["outcome"],
            registry=registry,
        )
        self.case_steps = Counter(
            "boucle_console_case_steps",
            "Cases moved on through the console's forms, by step.",
            ["step"],
            registry=registry,
        )
        self.refused = Counter(
            "boucle_console_refused_writes",
            "Write requests refused by the console itself, by reason.",
            ["reason"],
            registry=registry,
        )
        self.action_steps = Counter(
            "boucle_console_action_steps",
            "Actions and meetings changed through the console's forms, by step (planned, "
            "in_progress, done, evidence, evaluation, meeting, decision).",
            ["step"],
            registry=registry,
        )
        self.emails = Counter(
            "boucle_console_emails",
            "Notification e-mails, by kind and outcome (sent, failed).",
            ["kind", "outcome"],
            registry=registry,
        )
