"""Bulk NDJSON intake: every line validated and answered on its own."""

from __future__ import annotations

import json

import pytest

from boucle_collector.domain.intake import ALL_KINDS
from boucle_collector.entrypoints.native import SLUGS
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.training.v1 import EnrolmentRecordedV1
from tests.unit.collector.collector_support import API_INTEGRATIONS, KEYS, Collector, MakeCollector

pytestmark = pytest.mark.unit

URL = "/v1/bulk/networks/net-1/sites/site-a/survey-responses"
HEADERS = {"X-Api-Key": KEYS["lyon-1"], "content-type": "application/x-ndjson"}
RESPONSE = example_of(SurveyResponseSubmittedV1).data


def line(response_id: str, **changes: object) -> str:
    body = RESPONSE.model_dump(mode="json") | {"response_id": response_id} | changes
    return json.dumps(body)


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS)


def test_each_line_is_answered_on_its_own(collector: Collector) -> None:
    lines = [line("r-1"), "", line("r-2", survey_kind="weekly"), "{oops", line("r-1"), line("r-3")]

    response = collector.client.post(URL, content="\n".join(lines), headers=HEADERS)

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["duplicates"], result["invalid"], result["unavailable"]) == (
        2,
        1,
        2,
        0,
    )
    assert (result["unknown"], result["detail"]) == (0, None)
    statuses = [(item["line"], item["status"]) for item in result["items"]]
    assert statuses == [
        (1, "accepted"),
        (3, "invalid"),
        (4, "invalid"),
        (5, "duplicate"),
        (6, "accepted"),
    ]
    assert any("survey_kind" in error for error in result["items"][1]["errors"])
    assert [e.data.response_id for e in collector.sink.events] == ["r-1", "r-3"]
    assert result["items"][3]["event_id"] == result["items"][0]["event_id"]
    assert collector.rejected("invalid", "bulk") == 2


def test_when_kafka_fails_the_outcome_is_unknown_and_the_answer_is_503(
    collector: Collector,
) -> None:
    """After a broker failure a line may already be on the topic: say so, and that a retry
    is safe because it carries the same event id."""
    collector.sink.mode = "fail"
    body = "\n".join([line("r-1"), line("r-2")])

    response = collector.client.post(URL, content=body, headers=HEADERS)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    result = response.json()
    assert [i["status"] for i in result["items"]] == ["unknown", "unknown"]
    assert (result["unknown"], result["unavailable"]) == (2, 2)  # former name kept
    assert "outcome is unknown" in result["detail"]
    assert "Retrying is safe" in result["detail"]
    assert "nothing was accepted" not in response.text
    assert collector.sink.events == []
    collector.sink.mode = "ok"
    retried = collector.client.post(URL, content=body, headers=HEADERS).json()
    assert [i["event_id"] for i in retried["items"]] == [i["event_id"] for i in result["items"]]
    assert [i["status"] for i in retried["items"]] == ["accepted", "accepted"]


def test_an_email_where_a_pseudonym_is_expected_is_an_invalid_line(collector: Collector) -> None:
    lines = [line("r-1", anonymous=False, respondent_ref="lea.martin@exemple.fr"), line("r-2")]
    enrolment = example_of(EnrolmentRecordedV1).data.model_dump(mode="json")
    enrolments = "/v1/bulk/networks/net-1/sites/site-a/enrolments"

    response = collector.client.post(URL, content="\n".join(lines), headers=HEADERS)
    learners = collector.client.post(
        enrolments, content=json.dumps(enrolment | {"learner_ref": "a@b.fr"}), headers=HEADERS
    )

    assert response.status_code == 200, response.text
    first, second = response.json()["items"]
    assert first["status"] == "invalid"
    assert first["errors"] == [
        "respondent_ref: an e-mail address is not a pseudonym: send a pseudonymous reference "
        "(for instance an HMAC of the address with a key you keep), never the address itself"
    ]
    assert second["status"] == "accepted"
    assert learners.json()["items"][0]["errors"][0].startswith("learner_ref: an e-mail address")
    assert "lea.martin" not in repr([e.data for e in collector.sink.events])


def test_every_kind_has_its_bulk_endpoint(collector: Collector) -> None:
    body = example_of(EnrolmentRecordedV1).data.model_dump_json()
    url = "/v1/bulk/networks/net-1/sites/site-a/enrolments"

    response = collector.client.post(url, content=body, headers=HEADERS)

    assert response.json()["accepted"] == 1
    assert collector.sink.events[0].type == EnrolmentRecordedV1.EVENT_TYPE
    assert collector.accepted(EnrolmentRecordedV1.EVENT_TYPE, "bulk") == 1


def test_bulk_needs_a_key_for_the_site(collector: Collector) -> None:
    other = "/v1/bulk/networks/net-1/sites/site-b/survey-responses"

    assert collector.client.post(URL, content=line("r-1")).status_code == 401
    assert collector.client.post(other, content=line("r-1"), headers=HEADERS).status_code == 403
    assert collector.sink.events == []


def test_too_many_lines_are_refused_before_any_is_published(make_collector: MakeCollector) -> None:
    collector = make_collector(integrations=API_INTEGRATIONS, max_bulk_items=2)
    body = "\n".join(line(f"r-{n}") for n in range(3))

    response = collector.client.post(URL, content=body, headers=HEADERS)

    assert response.status_code == 422
    assert response.json()["detail"] == "3 lines; at most 2 per request"
    assert collector.sink.events == []


def test_the_bulk_body_limit_is_its_own(make_collector: MakeCollector) -> None:
    collector = make_collector(
        integrations=API_INTEGRATIONS, max_body_bytes=2048, max_bulk_body_bytes=1_000_000
    )
    body = "\n".join(line(f"r-{n}") for n in range(20))
    assert len(body) > 2048

    assert collector.client.post(URL, content=body, headers=HEADERS).json()["accepted"] == 20


def test_the_six_kinds_have_a_bulk_endpoint(collector: Collector) -> None:
    paths = collector.client.get("/openapi.json").json()["paths"]
    prefix = "/v1/bulk/networks/{network_id}/sites/{site_id}/"
    bulk = {path.removeprefix(prefix) for path in paths if path.startswith(prefix)}

    assert bulk == set(SLUGS)
    assert {kind.event_class for kind in SLUGS.values()} == {k.event_class for k in ALL_KINDS}
