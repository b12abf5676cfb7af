"""Structured JSON logs on stdout, with secrets and personal data masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from boucle_runtime.logging import MASK, RepeatCollapser, configure_logging, get_logger

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
    faststream = logging.getLogger("faststream")
    faststream_handlers, faststream_propagates = faststream.handlers[:], faststream.propagate
    try:
        yield Stdout(capsys)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)
        faststream.handlers[:], faststream.propagate = faststream_handlers, faststream_propagates
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


def test_personal_data_and_tokens_inside_any_value_are_masked(stdout: Stdout) -> None:
    stdout.configure()
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3ItMSJ9.c2lnbmF0dXJl"

    get_logger("unit.values").warning(
        "upstream_refused",
        error="400: respondent jeanne.martin@example.fr (+33 6 12 34 56 78) is unknown",
        detail={"reason": "call 06.12.34.56.78 or 0612345678"},
        url=f"https://api.example.org/x?access={jwt}",
        sent=["Authorization: Bearer abc.DEF-123_x"],
        site_id="lyon-part-dieu",
        offset=1234567890,
    )

    out = stdout.text()
    for leaked in ("jeanne.martin", "12 34 56", "12.34.56", "0612345678", jwt, "abc.DEF"):
        assert leaked not in out
    (line,) = [json.loads(raw) for raw in out.splitlines()]
    assert line["error"] == "400: respondent [masked] ([masked]) is unknown"
    assert line["detail"] == {"reason": "call [masked] or [masked]"}
    assert line["sent"] == ["Authorization: Bearer [masked]"]
    assert (line["site_id"], line["offset"]) == ("lyon-part-dieu", 1234567890)


def test_library_messages_and_tracebacks_are_masked_by_value(stdout: Stdout) -> None:
    stdout.configure()

    logging.getLogger("faststream.unit").error("refused %s", "paul@example.org")
    try:
        raise ValueError("input_value='jeanne.martin@example.fr'")
    except ValueError:
        get_logger("unit.exc").exception("handler_crashed")

    out = stdout.text()
    assert "paul@example.org" not in out
    assert "jeanne.martin" not in out
    first, second = stdout_lines(out)
    assert first["event"] == "refused [masked]"
    assert "ValueError: input_value='[masked]'" in second["exception"]


def stdout_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_reconnecting_library_is_logged_once_then_counted(stdout: Stdout) -> None:
    """A 25-second broker outage wrote thousands of identical aiokafka lines."""
    stdout.configure()
    client = logging.getLogger("aiokafka.conn")

    for node in range(500):
        client.error("Unable connect to node with id %s: %s", node % 3, "Connect call failed")
    logging.getLogger("aiokafka.consumer.fetcher").error("Failed fetch messages from %s", 1)
    get_logger("unit.own").error("backend_down", backend="kafka")
    get_logger("unit.own").error("backend_down", backend="kafka")

    lines = stdout.lines()
    assert [(line["logger"], line["event"]) for line in lines] == [
        ("aiokafka.conn", "Unable connect to node with id 0: Connect call failed"),
        ("aiokafka.consumer.fetcher", "Failed fetch messages from 1"),
        ("unit.own", "backend_down"),
        ("unit.own", "backend_down"),  # our own events are never collapsed
    ]


def test_collapsed_lines_are_counted_in_the_next_one_after_the_window() -> None:
    clock = [0.0]
    collapser = RepeatCollapser(window_seconds=60, clock=lambda: clock[0])

    def record(name: str = "aiokafka.conn", level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "Unable connect to %s", ("n",), None)

    passed = [collapser.filter(record()) for _ in range(100)]
    clock[0] = 61.0
    later = record()

    assert passed == [True] + [False] * 99
    assert collapser.filter(later)
    assert later.getMessage() == "Unable connect to n [99 identical lines not logged]"
    assert collapser.filter(record(level=logging.INFO)), "below WARNING: never collapsed"
    assert collapser.filter(record(name="boucle.analyzer.handlers"))
    assert collapser.filter(record(name="boucle.analyzer.handlers"))
