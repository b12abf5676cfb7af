"""The example events: one per type, valid, deterministic, and round-tripping on the wire."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from boucle_contracts.cli import DEFAULT_DIR
from boucle_contracts.examples import EXAMPLES, example, example_of
from boucle_contracts.feedback.v1 import ScaleAnswer, SurveyResponseSubmittedV1
from boucle_contracts.registry import ALL_EVENTS, EVENTS_BY_TYPE, AnyEvent, decode_event
from boucle_contracts.schemas import schema_path

pytestmark = pytest.mark.unit

EVENT_CLASSES = pytest.mark.parametrize("event_class", ALL_EVENTS, ids=lambda c: c.EVENT_TYPE)


def test_every_event_type_has_exactly_one_example() -> None:
    assert len(ALL_EVENTS) == 30
    assert set(EXAMPLES) == set(EVENTS_BY_TYPE)


@EVENT_CLASSES
def test_example_is_an_instance_of_its_concrete_class(event_class: type[AnyEvent]) -> None:
    event = EXAMPLES[event_class.EVENT_TYPE]

    assert type(event) is event_class
    assert event.type == event_class.EVENT_TYPE
    assert event.dataschema == event_class.DATA_SCHEMA
    assert event.network_id == "reseau-horizon"


@EVENT_CLASSES
def test_example_round_trips_through_the_wire_format(event_class: type[AnyEvent]) -> None:
    event = EXAMPLES[event_class.EVENT_TYPE]

    decoded = decode_event(event.to_json_bytes())

    assert type(decoded) is event_class
    assert decoded == event
    assert decoded.to_json_bytes() == event.to_json_bytes()


@EVENT_CLASSES
def test_wire_format_uses_cloudevents_extension_names(event_class: type[AnyEvent]) -> None:
    document = json.loads(EXAMPLES[event_class.EVENT_TYPE].to_json_bytes())

    assert document["specversion"] == "1.0"
    assert document["networkid"] == "reseau-horizon"
    assert "network_id" not in document
    assert "correlation_id" not in document
    assert all(key.isalnum() and key.islower() for key in document), sorted(document)


@EVENT_CLASSES
def test_example_is_the_one_embedded_in_the_committed_schema(
    event_class: type[AnyEvent],
) -> None:
    # The committed file was generated in another process: equality proves determinism.
    committed = json.loads((DEFAULT_DIR / schema_path(event_class)).read_text(encoding="utf-8"))
    live = EXAMPLES[event_class.EVENT_TYPE].model_dump(
        mode="json", by_alias=True, exclude_none=True
    )

    assert committed["examples"] == [live]


def test_examples_use_fixed_ids_and_utc_times() -> None:
    ids = [event.id for event in EXAMPLES.values()]
    assert len(set(ids)) == len(ids)
    for event in EXAMPLES.values():
        assert event.time.utcoffset() == timedelta(0), event.type


def test_examples_tell_one_causal_story() -> None:
    by_id = {event.id: event for event in EXAMPLES.values()}
    caused = [event for event in EXAMPLES.values() if event.causation_id is not None]

    assert len(caused) >= 5
    for event in caused:
        assert event.causation_id is not None
        cause = by_id[event.causation_id]
        assert cause.time <= event.time, (event.type, cause.type)
        assert event.correlation_id in by_id


def test_survey_example_is_a_hot_survey_with_a_french_platform_comment() -> None:
    survey = example_of(SurveyResponseSubmittedV1)

    assert survey.site_id == "lyon-part-dieu"
    assert survey.data.training.programme_id == "prog-gestion-projet"
    scales = {a.dimension: a.value for a in survey.data.answers if isinstance(a, ScaleAnswer)}
    assert set(scales) == {"overall", "platform", "trainer"}
    assert survey.data.comments[0].text.startswith("La plateforme en ligne coupe souvent")


def test_example_lookup_by_type_and_by_class() -> None:
    assert example(SurveyResponseSubmittedV1.EVENT_TYPE) is example_of(SurveyResponseSubmittedV1)


def test_example_of_unknown_type_names_it() -> None:
    with pytest.raises(KeyError, match=r"no example event for type 'fr\.boucle\.nope\.v1'"):
        example("fr.boucle.nope.v1")
