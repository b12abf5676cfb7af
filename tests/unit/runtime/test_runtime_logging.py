"""Structured JSON logs on stdout, with secrets and personal data masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from boucle_runtime.logging import MASK, configure_logging, get_logger

pytestmark = pytest.mark.unit


class Stdout:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def configure(self) -> None:
        """As a service does at start-up.

        Called in the test body: the handler binds ``sys.stdout`` when it is created, and
        only during the call phase is that the stream capsys reads.
        """
        configure_logging(service="unit-test", level="INFO", fmt="json")

    def text(self) -> str:
        return self._capsys.readouterr().out

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]


@pytest.fixture
def stdout(capsys: pytest.CaptureFixture[str]) -> Iterator[Stdout]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("aiokafka", "uvicorn.access")}
    try:
        yield Stdout(capsys)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


def test_sensitive_values_never_reach_the_log_line(stdout: Stdout) -> None:
    stdout.configure()

    get_logger("unit.masking").info(
        "complaint_received",
        email="jeanne.martin@example.fr",
        authorization="Bearer s3cr3t-t0k3n",
        comment="Le formateur était absent",
        Phone="06 12 34 56 78",
        complaint_id="rec-2025-012",
    )

    out = stdout.text()
    for secret in ("jeanne.martin", "s3cr3t-t0k3n", "formateur", "06 12 34"):
        assert secret not in out
    (line,) = [json.loads(raw) for raw in out.splitlines()]
    assert line["email"] == line["authorization"] == line["comment"] == line["Phone"] == MASK
    assert line["complaint_id"] == "rec-2025-012", "identifiers are not personal data"


def test_nested_and_compound_keys_are_masked(stdout: Stdout) -> None:
    stdout.configure()

    get_logger("unit.nested").info(
        "webhook_parsed",
        user_email="jeanne.martin@example.fr",
        payload={"respondent": {"phone": "06 12 34 56 78", "site_id": "lyon"}},
        answers=[{"text": "Plateforme en panne", "question_id": "q1"}],
        webhook_secret_hint="whsec_abc",
    )

    out = stdout.text()
    for secret in ("jeanne.martin", "06 12 34", "Plateforme en panne", "whsec_abc"):
        assert secret not in out
    (line,) = [json.loads(raw) for raw in out.splitlines()]
    assert line["payload"]["respondent"] == {"phone": MASK, "site_id": "lyon"}
    assert line["answers"] == [{"text": MASK, "question_id": "q1"}]


def test_values_bound_to_a_logger_are_masked_too(stdout: Stdout) -> None:
    stdout.configure()

    get_logger("unit.bound").bind(token="tok-123", site_id="lyon").info("webhook_received")

    (line,) = stdout.lines()
    assert line["token"] == MASK
    assert line["site_id"] == "lyon"


def test_a_line_is_one_json_object_with_level_logger_time_and_service(stdout: Stdout) -> None:
    stdout.configure()

    get_logger("unit.shape").warning("snapshot_publication_failed", batch=3)

    (line,) = stdout.lines()
    assert line["event"] == "snapshot_publication_failed"
    assert line["level"] == "warning"
    assert line["logger"] == "unit.shape"
    assert line["service"] == "unit-test"
    assert line["batch"] == 3
    assert line["timestamp"].endswith("Z")


def test_standard_library_records_are_rendered_as_json(stdout: Stdout) -> None:
    stdout.configure()

    logging.getLogger("aiokafka.unit").error("connection lost")
    logging.getLogger("uvicorn.error").info("started")

    assert [(line["logger"], line["event"], line["level"]) for line in stdout.lines()] == [
        ("aiokafka.unit", "connection lost", "error"),
        ("uvicorn.error", "started", "info"),
    ]


def test_noisy_libraries_are_held_at_warning(stdout: Stdout) -> None:
    stdout.configure()

    logging.getLogger("aiokafka").info("heartbeat")
    logging.getLogger("uvicorn.access").info("GET /metrics 200")
    get_logger("unit.quiet").debug("below INFO")

    assert stdout.lines() == []
