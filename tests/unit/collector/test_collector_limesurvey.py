"""LimeSurvey pull: RemoteControl 2 JSON-RPC against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from boucle_collector.adapters.integrations_file import IntegrationsSource, parse_integrations
from boucle_collector.adapters.limesurvey import LimeSurveyClient
from boucle_collector.adapters.memory import InMemoryCursorStore, InMemoryLeaseStore
from boucle_collector.domain.limesurvey import ExportFormatError, parse_export
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.intake_publisher import IntakePublisher
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.pulls import LimeSurveyPull, PullReport
from boucle_contracts.feedback.v1 import ChoiceAnswer, NpsAnswer, ScaleAnswer
from boucle_contracts.registry import AnyEvent
from tests.unit.collector.limesurvey_server import (
    PASSWORD,
    LimeSurveyState,
    limesurvey_integration,
    limesurvey_server,
    response_row,
)

pytestmark = pytest.mark.unit

SURVEY = 123456
PARIS = ZoneInfo("Europe/Paris")


class FlakySink:
    """Kafka stand-in that refuses the publications numbered in ``fail_at`` (1-based)."""

    def __init__(self, fail_at: set[int] | None = None) -> None:
        self.events: list[AnyEvent] = []
        self.fail_at = fail_at or set()
        self.attempts = 0

    async def publish(self, event: AnyEvent) -> None:
        self.attempts += 1
        if self.attempts in self.fail_at:
            raise ConnectionError("broker down")
        self.events.append(event)


@dataclass
class Puller:
    pull: LimeSurveyPull
    sink: FlakySink
    cursors: InMemoryCursorStore
    server: LimeSurveyState
    registry: CollectorRegistry

    def run(self) -> PullReport:
        (report,) = asyncio.run(self.pull.run_once())
        return report

    def cursor(self) -> int:
        return self.cursors.cursors.get(("lime-horizon", str(SURVEY)), 0)

    def response_ids(self) -> list[str]:
        return [event.data.response_id for event in self.sink.events]


@pytest.fixture
def server() -> Iterator[LimeSurveyState]:
    with limesurvey_server(LimeSurveyState(survey_id=SURVEY)) as state:
        yield state


@pytest.fixture
def puller(tmp_path: Path, server: LimeSurveyState) -> Puller:
    password = tmp_path / "limesurvey-password"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    path = tmp_path / "integrations.json"
    integration = limesurvey_integration(server.url, str(password), SURVEY)
    path.write_text(json.dumps({"integrations": [integration]}), encoding="utf-8")
    registry = CollectorRegistry()
    metrics = CollectorMetrics(registry)
    source = IntegrationsSource(path, metrics=metrics, environ={})
    source.load()
    sink, cursors = FlakySink(), InMemoryCursorStore()
    publisher = IntakePublisher(sink=sink, metrics=metrics, timeout_seconds=2.0)
    pull = LimeSurveyPull(
        publisher=publisher,
        integrations=source,
        cursors=cursors,
        client=LimeSurveyClient(timeout_seconds=5.0),
        pseudonymiser=Pseudonymiser(b"a-test-secret-of-32-bytes-length"),
        leases=InMemoryLeaseStore(),
        lease_seconds=60.0,
    )
    return Puller(pull, sink, cursors, server, registry)


@pytest.mark.parametrize("nested", [True, False], ids=["limesurvey-5-format", "6-format"])
def test_first_run_exports_all_then_only_newer_ids(puller: Puller, nested: bool) -> None:
    puller.server.nested = nested
    puller.server.rows = [response_row(n) for n in (1, 2, 3)]

    first = puller.run()

    assert (first.accepted, first.cursor, first.error) == (3, 3, None)
    assert puller.response_ids() == [f"limesurvey:{SURVEY}:{n}" for n in (1, 2, 3)]
    data = puller.sink.events[0].data
    assert data.submitted_at.isoformat() == "2025-03-11T14:30:00+01:00"  # Paris, winter
    assert data.channel == "limesurvey"
    overall, nps, choice = data.answers
    assert isinstance(overall, ScaleAnswer)
    assert (overall.value, overall.dimension) == (4, "overall")
    assert isinstance(nps, NpsAnswer)
    assert nps.value == 9
    assert isinstance(choice, ChoiceAnswer)
    assert choice.value == ("Non",)
    assert [c.text for c in data.comments] == ["Très bien"]
    assert data.unmapped == ()  # G01Q05 is declared by no mapping: dropped, not published
    assert "hors mapping" not in puller.sink.events[0].to_json_bytes().decode()
    dropped = {"channel": "pull/limesurvey", "integration": "lime-horizon", "form": str(SURVEY)}
    assert puller.registry.get_sample_value("boucle_collector_dropped_answers_total", dropped) == 3
    assert puller.cursor() == 3

    puller.server.rows += [response_row(4), response_row(5)]
    second = puller.run()

    assert (second.accepted, second.cursor) == (2, 5)
    assert puller.response_ids()[3:] == [f"limesurvey:{SURVEY}:{n}" for n in (4, 5)]
    assert puller.server.exported_from() == [1, 4]
    assert puller.server.open_sessions == set()  # every session released

    third = puller.run()  # nothing new: LimeSurvey answers with a "No Response" status
    assert (third.accepted, third.cursor, third.error) == (0, 5, None)
    assert len(puller.sink.events) == 5


def test_a_kafka_failure_in_the_middle_does_not_advance_the_cursor_past_it(
    puller: Puller,
) -> None:
    puller.server.rows = [response_row(n) for n in (1, 2, 3)]
    puller.sink.fail_at = {2}

    failed = puller.run()

    assert failed.error is not None
    assert puller.response_ids() == [f"limesurvey:{SURVEY}:1"]
    assert puller.cursor() == 1  # 1 acknowledged; 2 failed, 3 never tried
    kafka = {"reason": "kafka_unavailable", "channel": "pull/limesurvey"}
    assert puller.registry.get_sample_value("boucle_collector_rejected_requests_total", kafka) == 2

    retried = puller.run()

    assert (retried.accepted, retried.cursor) == (2, 3)
    assert puller.response_ids() == [f"limesurvey:{SURVEY}:{n}" for n in (1, 2, 3)]
    assert puller.server.exported_from() == [1, 2]


def test_ids_at_or_below_the_cursor_and_repeated_ids_are_not_published_again(
    puller: Puller,
) -> None:
    puller.server.rows = [response_row(1), response_row(2)]
    assert puller.run().accepted == 2

    puller.server.ignore_from = True  # a server answering from the start again
    puller.server.rows += [response_row(3), response_row(3)]  # and a repeated id
    report = puller.run()

    assert (report.accepted, report.duplicates, report.cursor) == (1, 0, 3)
    assert puller.response_ids() == [f"limesurvey:{SURVEY}:{n}" for n in (1, 2, 3)]


def test_a_lost_cursor_republishes_nothing_on_this_replica(puller: Puller) -> None:
    puller.server.rows = [response_row(1), response_row(2)]
    puller.run()
    puller.cursors.cursors.clear()  # e.g. the cursor write failed after Kafka acknowledged

    report = puller.run()

    assert (report.accepted, report.duplicates) == (0, 2)
    assert len(puller.sink.events) == 2


def test_an_unmappable_response_is_counted_and_passed_over(puller: Puller) -> None:
    unmappable = response_row(2)
    for question in ("G01Q01", "G01Q02", "G01Q04[SQ001]"):
        unmappable[question] = ""  # no mapped answer: the contract needs one
    puller.server.rows = [response_row(1), unmappable, response_row(3)]

    report = puller.run()

    assert (report.accepted, report.unmappable, report.cursor) == (2, 1, 3)
    labels = {"reason": "unmappable", "channel": "pull/limesurvey"}
    assert puller.registry.get_sample_value("boucle_collector_rejected_requests_total", labels) == 1


def test_a_wrong_password_publishes_nothing_and_keeps_the_cursor(
    puller: Puller, tmp_path: Path
) -> None:
    puller.server.rows = [response_row(1)]
    (tmp_path / "limesurvey-password").write_text("wrong", encoding="utf-8")
    assert puller.pull.integrations.reload_if_changed()

    report = puller.run()

    assert report.error is not None
    assert "Invalid user name or password" in report.error
    assert puller.sink.events == []
    assert puller.cursor() == 0
    assert [method for method, _ in puller.server.calls] == ["get_session_key"]


def test_a_server_that_does_not_answer_is_an_error_not_a_crash(
    puller: Puller, tmp_path: Path
) -> None:
    puller.server.rows = [response_row(1)]
    path = tmp_path / "integrations.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["integrations"][0]["limesurvey"]["url"] = "http://127.0.0.1:9/remotecontrol"
    path.write_text(json.dumps(config), encoding="utf-8")
    assert puller.pull.integrations.reload_if_changed()

    report = puller.run()

    assert report.error is not None
    assert report.error.startswith("get_session_key")
    assert puller.cursor() == 0
    assert puller.server.calls == []


def test_only_the_replica_holding_the_lease_pulls(puller: Puller) -> None:
    puller.server.rows = [response_row(1)]
    other = dataclasses.replace(puller.pull, holder="other-replica")

    (taken,) = asyncio.run(other.run_once())  # the lease was free: "other" takes it
    assert taken.accepted == 1
    assert asyncio.run(puller.pull.run_once()) == []  # held by other: no export at all
    assert asyncio.run(other.run_once())  # renewed by its holder
    assert [m for m, _ in puller.server.calls].count("export_responses") == 2

    leases = puller.pull.leases
    assert isinstance(leases, InMemoryLeaseStore)
    holder, until = leases.leases["limesurvey-pull"]
    leases.leases["limesurvey-pull"] = (holder, until - timedelta(seconds=61))  # expired
    puller.server.rows.append(response_row(2))
    (report,) = asyncio.run(puller.pull.run_once())
    assert (report.accepted, report.cursor) == (1, 2)
    assert len(puller.sink.events) == 2


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({}, "responses"),
        ({"responses": ["x"]}, "responses.0 is not an object"),
        ({"responses": [{"id": "abc", "submitdate": "2025-01-01 10:00:00"}]}, "responses.0.id"),
        ({"responses": [{"7": "x"}]}, "responses.0.7"),
        ({"responses": [{"id": 1, "submitdate": "hier"}]}, "responses.0.submitdate"),
    ],
)
def test_an_export_not_in_limesurvey_format_names_the_field(
    document: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ExportFormatError, match=problem.replace(".", r"\.")):
        parse_export(document, survey_id="1", zone=PARIS)


def test_incomplete_responses_are_left_out_and_ids_sorted() -> None:
    document = {
        "responses": [
            {"10": {"submitdate": "2025-07-01 09:00:00", "G01Q01": "5"}},
            {"9": {"submitdate": None, "G01Q01": "1"}},
            {"2": {"submitdate": "2025-07-01 08:00:00", "G01Q01": "3", "startlanguage": "en"}},
        ]
    }

    parsed = parse_export(document, survey_id="42", zone=PARIS)

    assert [(r.response_id, r.language) for r in parsed] == [("2", "en"), ("10", None)]
    assert parsed[0].submitted_at.isoformat() == "2025-07-01T08:00:00+02:00"  # summer time


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"limesurvey": None}, "limesurvey section"),
        ({"limesurvey": {"url": "ftp://x"}}, "limesurvey.url"),
        ({"limesurvey": {"survey_ids": ["abc"]}}, "limesurvey.survey_ids.0"),
        ({"limesurvey": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
        ({"limesurvey": {"password": {"env": "UNSET_VARIABLE"}}}, "UNSET_VARIABLE is not set"),
        ({"platform": "api", "api_keys": [{"id": "k", "sha256": "0" * 64}]}, "limesurvey"),
    ],
    ids=["no-section", "url", "survey-id", "zone", "password", "section-elsewhere"],
)
def test_a_limesurvey_integration_is_validated_on_load(
    tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    integration = limesurvey_integration("http://127.0.0.1/rc", str(tmp_path / "pw"), SURVEY)
    (tmp_path / "pw").write_text("secret", encoding="utf-8")
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(integration.get(key), dict):
            integration[key] = {**integration[key], **value}
        else:
            integration[key] = value

    with pytest.raises(ValueError, match=problem):
        parse_integrations(json.dumps({"integrations": [integration]}), environ={})
