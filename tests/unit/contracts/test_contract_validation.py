"""Contract violations fail with clear errors; envelopes, keys and headers follow the rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from boucle_contracts import kafka
from boucle_contracts.actions.v1 import ImprovementActionCreatedV1
from boucle_contracts.common import RespondentRole
from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.feedback.v1 import (
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.registry import (
    ALL_EVENTS,
    TOPICS,
    UnknownEventTypeError,
    dead_letter_topic,
    decode_event,
    events_on,
)

pytestmark = pytest.mark.unit

SURVEY_TYPE = SurveyResponseSubmittedV1.EVENT_TYPE


def survey_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(example_of(SurveyResponseSubmittedV1).to_json_bytes())
    return document


def encode(document: Any) -> bytes:
    return json.dumps(document).encode()


# --- clear validation errors ----------------------------------------------------------


def test_scale_value_outside_its_scale_names_the_answer_and_the_bounds() -> None:
    document = survey_document()
    document["data"]["answers"][0]["value"] = 7

    with pytest.raises(ValidationError) as caught:
        decode_event(encode(document))

    [error] = caught.value.errors()
    assert error["loc"] == ("data", "answers", 0, "scale")
    assert "value 7.0 is outside the scale [1, 5]" in error["msg"]
    assert "data.answers.0.scale" in str(caught.value)


def test_scale_bounds_come_from_the_answer_not_a_fixed_range() -> None:
    answer = ScaleAnswer(type="scale", question_id="q-nps", value=7, scale_min=0, scale_max=10)
    assert answer.value == 7

    with pytest.raises(ValidationError, match=r"scale_max \(1\) must exceed scale_min \(5\)"):
        ScaleAnswer(type="scale", question_id="q", value=3, scale_min=5, scale_max=1)


def test_anonymous_response_with_a_respondent_ref_is_refused() -> None:
    document = survey_document()
    document["data"]["respondent_ref"] = "lrn-7f3a9c"

    with pytest.raises(ValidationError) as caught:
        decode_event(encode(document))

    [error] = caught.value.errors()
    assert error["loc"] == ("data",)
    assert "an anonymous response must not carry a respondent_ref" in error["msg"]


def test_named_response_may_carry_a_respondent_ref() -> None:
    response = SurveyResponseSubmitted(
        response_id="tally:abc",
        survey_id="enquete-froid",
        survey_kind=SurveyKind.COLD,
        respondent_role=RespondentRole.LEARNER,
        respondent_ref="lrn-7f3a9c",
        submitted_at=datetime(2025, 4, 1, tzinfo=UTC),
        channel="tally",
        answers=(ScaleAnswer(type="scale", question_id="q", value=4),),
    )
    assert response.respondent_ref == "lrn-7f3a9c"


def test_unknown_answer_type_lists_the_expected_ones() -> None:
    document = survey_document()
    document["data"]["answers"][0]["type"] = "stars"

    with pytest.raises(ValidationError) as caught:
        decode_event(encode(document))

    [error] = caught.value.errors()
    assert error["loc"] == ("data", "answers", 0)
    assert "'stars'" in error["msg"]
    assert "'scale', 'nps', 'choice', 'text'" in error["msg"]


def test_unknown_event_type_is_named_with_the_known_ones() -> None:
    document = survey_document()
    document["type"] = "fr.boucle.feedback.survey_response_submitted.v9"

    with pytest.raises(UnknownEventTypeError) as caught:
        decode_event(encode(document))

    message = str(caught.value)
    assert "unknown event type 'fr.boucle.feedback.survey_response_submitted.v9'" in message
    assert "known types: " in message
    assert SURVEY_TYPE in message
    assert ComplaintReceivedV1.EVENT_TYPE in message


@pytest.mark.parametrize("type_", [None, 42, ["fr.boucle.x"], {"a": 1}])
def test_missing_or_non_text_event_type_is_an_unknown_type(type_: object) -> None:
    document = survey_document()
    if type_ is None:
        del document["type"]
    else:
        document["type"] = type_

    with pytest.raises(UnknownEventTypeError, match=r"unknown event type"):
        decode_event(encode(document))


def test_malformed_json_is_reported_as_invalid_json() -> None:
    with pytest.raises(ValidationError) as caught:
        decode_event(b'{"type": "fr.boucle.feedback.survey_response_submitted.v1", ')

    [error] = caught.value.errors()
    assert error["type"] == "json_invalid"
    assert "Invalid JSON" in error["msg"]


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError, match="Input should be an object"):
        decode_event(b'["fr.boucle.feedback.survey_response_submitted.v1"]')


def test_missing_tenant_and_naive_time_are_both_reported_by_wire_name() -> None:
    document = survey_document()
    del document["networkid"]
    document["time"] = "2025-03-14T16:42:00"

    with pytest.raises(ValidationError) as caught:
        decode_event(encode(document))

    errors = {error["loc"]: error["msg"] for error in caught.value.errors()}
    assert errors == {
        ("networkid",): "Field required",
        ("time",): "Input should have timezone info",
    }


def test_data_of_another_event_type_is_refused() -> None:
    document = json.loads(example_of(ComplaintReceivedV1).to_json_bytes())
    document["type"] = SURVEY_TYPE

    with pytest.raises(ValidationError) as caught:
        decode_event(encode(document))

    missing = {e["loc"] for e in caught.value.errors() if e["type"] == "missing"}
    assert ("data", "response_id") in missing
    assert ("data", "answers") in missing


def test_consumers_are_tolerant_readers() -> None:
    document = survey_document()
    document["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    document["data"]["mood"] = "grumpy"
    document["data"]["answers"][0]["weight"] = 2

    decoded = decode_event(encode(document))

    assert decoded == example_of(SurveyResponseSubmittedV1)


# --- envelope -------------------------------------------------------------------------


def test_create_fills_the_cloudevents_attributes() -> None:
    data = example_of(ImprovementActionCreatedV1).data

    event = ImprovementActionCreatedV1.create(
        data=data, network_id="reseau-horizon", source="/actions", event_id="evt-1"
    )

    assert event.specversion == "1.0"
    assert event.type == "fr.boucle.actions.improvement_action_created.v1"
    assert event.dataschema == "urn:boucle:schema:actions:v1:improvement_action_created"
    assert event.correlation_id == "evt-1"
    assert event.causation_id is None
    assert event.time.tzinfo is not None
    document = json.loads(event.to_json_bytes())
    assert document["networkid"] == "reseau-horizon"
    assert document["correlationid"] == "evt-1"
    assert "siteid" not in document
    assert "causationid" not in document


def test_create_generates_distinct_ids() -> None:
    data = example_of(ImprovementActionCreatedV1).data
    first = ImprovementActionCreatedV1.create(data=data, network_id="n", source="/actions")
    second = ImprovementActionCreatedV1.create(data=data, network_id="n", source="/actions")
    assert first.id != second.id


def test_caused_event_keeps_the_correlation_and_points_to_its_cause() -> None:
    cause = example_of(ComplaintReceivedV1)

    tracing = cause.caused()

    assert tracing == {
        "network_id": "reseau-horizon",
        "site_id": "lyon-part-dieu",
        "correlation_id": cause.correlation_id,
        "causation_id": cause.id,
    }


# --- partition key, topics, headers ---------------------------------------------------

SITE_EVENTS = [event for event in EXAMPLES.values() if event.site_id is not None]
NETWORK_EVENTS = [event for event in EXAMPLES.values() if event.site_id is None]


@pytest.mark.parametrize("event", SITE_EVENTS, ids=lambda e: e.type)
def test_site_events_are_keyed_by_network_and_site(event: Any) -> None:
    assert event.partition_key == b"reseau-horizon/lyon-part-dieu"


@pytest.mark.parametrize("event", NETWORK_EVENTS, ids=lambda e: e.type)
def test_network_wide_events_are_keyed_by_network(event: Any) -> None:
    assert event.partition_key == b"reseau-horizon"


def test_examples_cover_both_kinds_of_key() -> None:
    assert len(SITE_EVENTS) >= 10
    assert len(NETWORK_EVENTS) >= 3


def test_two_sites_of_one_network_get_different_keys() -> None:
    data = example_of(ComplaintReceivedV1).data
    lyon = ComplaintReceivedV1.create(data=data, network_id="n1", site_id="lyon", source="/c")
    nantes = ComplaintReceivedV1.create(data=data, network_id="n1", site_id="nantes", source="/c")
    assert lyon.partition_key == b"n1/lyon"
    assert nantes.partition_key == b"n1/nantes"


def test_headers_are_structured_mode_with_routing_hints() -> None:
    event = example_of(SurveyResponseSubmittedV1)

    assert kafka.headers_for(event) == {
        "content-type": "application/cloudevents+json; charset=utf-8",
        "ce_type": SURVEY_TYPE,
        "ce_id": event.id,
    }


def test_every_event_travels_on_a_declared_topic_and_every_topic_is_used() -> None:
    names = [topic.name for topic in TOPICS]
    assert len(set(names)) == len(names)
    assert {cls.TOPIC for cls in ALL_EVENTS} == set(names)
    assert all(events_on(name) for name in names)
    assert all(name.endswith(".v1") for name in names)


def test_dead_letter_topic_is_per_consumer_group() -> None:
    assert dead_letter_topic("analyzer") == "boucle.deadletter.analyzer"
