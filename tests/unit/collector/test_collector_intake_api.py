"""The collector's HTTP intake: 202 once the sink has the event, 422 for bad input, 503 else.

Without an integrations file (development), so no API key is needed: see
test_collector_tenancy.py for keys.
"""

from __future__ import annotations

from typing import Any

import pytest

from boucle_collector.domain.intake import event_id_for
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.training.v1 import (
    DropoutRecordedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
)
from tests.unit.collector.collector_support import Collector, MakeCollector

pytestmark = pytest.mark.unit

SITE_URL = "/v1/networks/net-1/sites/site-a"
SURVEY_TYPE = SurveyResponseSubmittedV1.EVENT_TYPE


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=None)  # no integrations file: the API is open


def _survey_body() -> dict[str, Any]:
    body: dict[str, Any] = example_of(SurveyResponseSubmittedV1).data.model_dump(mode="json")
    return body


def test_a_survey_response_is_accepted_with_its_event_id(collector: Collector) -> None:
    response = collector.client.post(f"{SITE_URL}/survey-responses", json=_survey_body())

    assert response.status_code == 202
    body = response.json()
    assert body == {"event_id": body["event_id"], "event_type": SURVEY_TYPE, "status": "accepted"}
    (event,) = collector.sink.events
    assert isinstance(event, SurveyResponseSubmittedV1)
    assert event.id == body["event_id"]
    assert (event.network_id, event.site_id) == ("net-1", "site-a")
    assert event.data == example_of(SurveyResponseSubmittedV1).data
    assert event.id == event_id_for(
        network_id="net-1",
        site_id="site-a",
        event_type=SURVEY_TYPE,
        natural_id=event.data.response_id,
    )
    assert collector.accepted(SURVEY_TYPE) == 1


def test_tenancy_comes_from_the_path(collector: Collector) -> None:
    url = "/v1/networks/reseau-sud/sites/marseille-1/survey-responses"

    collector.client.post(url, json=_survey_body())

    (event,) = collector.sink.events
    assert (event.network_id, event.site_id) == ("reseau-sud", "marseille-1")
    document = event.model_dump(mode="json", by_alias=True)
    assert (document["networkid"], document["siteid"]) == ("reseau-sud", "marseille-1")


def test_a_resubmission_is_answered_200_duplicate_and_published_once(
    collector: Collector,
) -> None:
    first = collector.client.post(f"{SITE_URL}/survey-responses", json=_survey_body())
    second = collector.client.post(f"{SITE_URL}/survey-responses", json=_survey_body())

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json() == first.json() | {"status": "duplicate"}
    assert len(collector.sink.events) == 1
    labels = {"event_type": SURVEY_TYPE, "channel": "api"}
    assert collector.sample("boucle_collector_duplicate_events_total", **labels) == 1


@pytest.mark.parametrize(
    ("path", "event_class"),
    [
        ("complaints", ComplaintReceivedV1),
        ("hazards", HazardReportedV1),
        ("enrolments", EnrolmentRecordedV1),
        ("session-completions", SessionCompletedV1),
        ("dropouts", DropoutRecordedV1),
    ],
)
def test_every_intake_endpoint_publishes_its_event_type(
    collector: Collector, path: str, event_class: type[AnyEvent]
) -> None:
    data = example_of(event_class).data.model_dump(mode="json")

    response = collector.client.post(f"{SITE_URL}/{path}", json=data)

    assert response.status_code == 202, response.text
    (event,) = collector.sink.events
    assert type(event) is event_class
    assert response.json()["event_type"] == event_class.EVENT_TYPE == event.type
    assert collector.accepted(event_class.EVENT_TYPE) == 1


def test_a_rating_off_its_scale_is_refused_naming_the_answer(collector: Collector) -> None:
    body = _survey_body()
    body["answers"][1]["value"] = 7  # on a 1-5 scale

    response = collector.client.post(f"{SITE_URL}/survey-responses", json=body)

    assert response.status_code == 422
    assert collector.rejected("invalid") == 1
    (error,) = response.json()["detail"]
    assert error["loc"][:3] == ["body", "answers", 1]
    assert "outside the scale" in error["msg"]
    assert collector.sink.events == []
    assert collector.accepted(SURVEY_TYPE) == 0


def test_a_missing_field_is_refused_naming_it(collector: Collector) -> None:
    body = _survey_body()
    del body["submitted_at"]

    response = collector.client.post(f"{SITE_URL}/survey-responses", json=body)

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "submitted_at"]]


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/v1/networks/net-1/sites/bad%20site/survey-responses", ["path", "site_id"]),
        ("/v1/networks/-net/sites/site-a/survey-responses", ["path", "network_id"]),
        (f"/v1/networks/{'n' * 129}/sites/site-a/survey-responses", ["path", "network_id"]),
    ],
)
def test_a_bad_path_id_is_refused_naming_it(
    collector: Collector, url: str, location: list[str]
) -> None:
    response = collector.client.post(url, json=_survey_body())

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [location]
    assert collector.sink.events == []


@pytest.mark.parametrize(
    ("path", "event_class", "field"),
    [
        ("survey-responses", SurveyResponseSubmittedV1, "respondent_ref"),
        ("enrolments", EnrolmentRecordedV1, "learner_ref"),
        ("dropouts", DropoutRecordedV1, "learner_ref"),
        ("complaints", ComplaintReceivedV1, "complainant_ref"),
    ],
)
def test_an_email_where_a_pseudonym_is_expected_is_refused_naming_the_field(
    collector: Collector, path: str, event_class: type[AnyEvent], field: str
) -> None:
    data = example_of(event_class).data.model_dump(mode="json") | {field: "Jean.Dupont@exemple.fr"}
    if "anonymous" in data:
        data["anonymous"] = False  # an anonymous response carries no respondent_ref at all

    response = collector.client.post(f"{SITE_URL}/{path}", json=data)

    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert "e-mail address is not a pseudonym" in error["msg"]
    assert "Jean.Dupont" not in response.text  # the address is not echoed back
    assert collector.sink.events == []
    assert collector.rejected("invalid") == 1


def test_an_identifier_with_an_at_sign_that_is_no_address_still_passes(
    collector: Collector,
) -> None:
    data = example_of(EnrolmentRecordedV1).data.model_dump(mode="json") | {
        "learner_ref": "lrn-42@tenant-a"
    }

    response = collector.client.post(f"{SITE_URL}/enrolments", json=data)

    assert response.status_code == 202, response.text


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_kafka_unavailable_answers_503_with_retry_after(collector: Collector, mode: str) -> None:
    collector.sink.mode = mode

    response = collector.client.post(f"{SITE_URL}/survey-responses", json=_survey_body())

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    # Kafka may have written it before failing: the truth is "unknown", and a retry is safe.
    refusal = response.json()
    assert refusal["outcome"] == "unknown"
    assert "outcome is unknown" in refusal["detail"]
    assert "Retrying is safe" in refusal["detail"]
    assert "nothing was accepted" not in response.text
    assert collector.sink.events == []
    assert collector.accepted(SURVEY_TYPE) == 0
    assert collector.rejected("kafka_unavailable") == 1


def test_after_an_outage_the_same_request_is_accepted(collector: Collector) -> None:
    collector.sink.mode = "fail"
    refused = collector.client.post(f"{SITE_URL}/survey-responses", json=_survey_body())
    collector.sink.mode = "ok"

    accepted = collector.client.post(f"{SITE_URL}/survey-responses", json=_survey_body())

    assert (refused.status_code, accepted.status_code) == (503, 202)
    assert refused.json()["event_id"] == accepted.json()["event_id"]  # hence a safe retry
    assert collector.accepted(SURVEY_TYPE) == 1
