"""``breaking_changes`` on real committed schemas, mutated in memory one rule at a time."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from boucle_contracts.cli import DEFAULT_DIR
from boucle_contracts.schemas import breaking_changes

pytestmark = pytest.mark.unit

Schema = dict[str, Any]


def committed(relative: str) -> Schema:
    schema: Schema = json.loads((DEFAULT_DIR / relative).read_text(encoding="utf-8"))
    return schema


def mutated(relative: str) -> tuple[Schema, Schema]:
    """(committed schema, deep copy of it to change)."""
    old = committed(relative)
    return old, copy.deepcopy(old)


COMPLAINT = "incidents/v1/complaint_received.json"
DROPOUT = "training/v1/dropout_recorded.json"
ENROLMENT = "training/v1/enrolment_recorded.json"
SESSION = "training/v1/session_completed.json"
METRICS = "metrics/v1/scope_metrics_updated.json"
SURVEY = "feedback/v1/survey_response_submitted.json"
CASE_TRANSITIONED = "cases/v1/complaint_case_transitioned.json"


@pytest.mark.parametrize(
    "relative",
    sorted(str(p.relative_to(DEFAULT_DIR)) for p in DEFAULT_DIR.rglob("*.json")),
)
def test_identical_schema_has_no_breaking_change(relative: str) -> None:
    old, new = mutated(relative)
    assert breaking_changes(old, new) == []


def test_removed_field_is_breaking() -> None:
    old, new = mutated(COMPLAINT)
    data = new["$defs"]["ComplaintReceived"]
    del data["properties"]["category_hint"]

    assert breaking_changes(old, new) == ["/data/category_hint: field removed or renamed"]


def test_removed_envelope_attribute_is_breaking() -> None:
    old, new = mutated(COMPLAINT)
    del new["properties"]["siteid"]

    assert breaking_changes(old, new) == ["/siteid: field removed or renamed"]


def test_renamed_field_is_breaking() -> None:
    old, new = mutated(COMPLAINT)
    data = new["$defs"]["ComplaintReceived"]
    data["properties"]["complainant_type"] = data["properties"].pop("complainant_role")
    data["required"] = [
        "complainant_type" if name == "complainant_role" else name for name in data["required"]
    ]

    assert breaking_changes(old, new) == [
        "/data/complainant_role: field removed or renamed",
        "/data/complainant_type: field is now required",
    ]


def test_changed_type_is_breaking() -> None:
    old, new = mutated(SESSION)
    new["$defs"]["SessionCompleted"]["properties"]["learners_enrolled"] = {"type": "string"}

    assert breaking_changes(old, new) == [
        "/data/learners_enrolled: type changed from ['integer'] to ['string']"
    ]


def test_field_becoming_nullable_is_breaking() -> None:
    old, new = mutated(SESSION)
    props = new["$defs"]["SessionCompleted"]["properties"]
    props["programme_id"] = {"anyOf": [props["programme_id"], {"type": "null"}]}

    assert breaking_changes(old, new) == [
        "/data/programme_id: type changed from ['string'] to ['null', 'string']"
    ]


def test_new_required_field_is_breaking() -> None:
    old, new = mutated(ENROLMENT)
    data = new["$defs"]["EnrolmentRecorded"]
    data["properties"]["funding_agreement_id"] = {"type": "string"}
    data["required"].append("funding_agreement_id")

    assert breaking_changes(old, new) == ["/data/funding_agreement_id: field is now required"]


def test_optional_field_becoming_required_is_breaking() -> None:
    old, new = mutated(ENROLMENT)
    new["$defs"]["EnrolmentRecorded"]["required"].append("funder_id")

    assert breaking_changes(old, new) == ["/data/funder_id: field is now required"]


def test_required_field_becoming_optional_is_breaking() -> None:
    old, new = mutated(ENROLMENT)
    data = new["$defs"]["EnrolmentRecorded"]
    data["required"].remove("learner_ref")

    assert breaking_changes(old, new) == ["/data/learner_ref: field is no longer required"]


def test_enum_value_removed_is_breaking() -> None:
    old, new = mutated(DROPOUT)
    new["$defs"]["DropoutReason"]["enum"].remove("unknown")

    assert breaking_changes(old, new) == [
        "/data/reason: enum values changed (removed ['unknown'], added [])"
    ]


def test_enum_value_added_is_breaking() -> None:
    old, new = mutated(CASE_TRANSITIONED)
    new["$defs"]["CaseStatus"]["enum"].append("reopened")

    # The enum is shared: every field using it is reported.
    assert breaking_changes(old, new) == [
        "/data/from_status: enum values changed (removed [], added ['reopened'])",
        "/data/to_status: enum values changed (removed [], added ['reopened'])",
    ]


def test_change_nested_inside_data_is_breaking() -> None:
    old, new = mutated(METRICS)
    new["$defs"]["Period"]["properties"]["start"] = {"type": "integer"}

    assert breaking_changes(old, new) == [
        "/data/period/start: type changed from ['string'] to ['integer']"
    ]


def test_enum_change_nested_in_scope_is_breaking() -> None:
    old, new = mutated(METRICS)
    new["$defs"]["ScopeLevel"]["enum"].remove("trainer")

    assert breaking_changes(old, new) == [
        "/data/scope/level: enum values changed (removed ['trainer'], added [])"
    ]


def test_change_inside_an_array_item_is_breaking() -> None:
    old, new = mutated(METRICS)
    del new["$defs"]["DimensionFigures"]["properties"]["satisfied"]

    assert breaking_changes(old, new) == ["/data/dimensions[]/satisfied: field removed or renamed"]


@pytest.mark.parametrize("variant", ["ScaleAnswer", "NpsAnswer", "ChoiceAnswer", "TextAnswer"])
def test_change_inside_each_variant_of_a_union_array_item_is_breaking(variant: str) -> None:
    # Every answer variant is compared with its own counterpart, not only the last one.
    old, new = mutated(SURVEY)
    new["$defs"][variant]["properties"]["question_id"] = {"type": "integer"}

    assert breaking_changes(old, new) == [
        "/data/answers[]/question_id: type changed from ['string'] to ['integer']"
    ]


def test_removed_union_variant_is_breaking() -> None:
    old, new = mutated(SURVEY)
    items = new["$defs"]["SurveyResponseSubmitted"]["properties"]["answers"]["items"]
    items["oneOf"] = [v for v in items["oneOf"] if v["$ref"] != "#/$defs/NpsAnswer"]

    problems = breaking_changes(old, new)

    assert len(problems) == 1
    assert problems[0].startswith("/data/answers[]: type changed")
    assert "object:type='nps'" in problems[0]


def test_adding_an_optional_field_is_compatible() -> None:
    old, new = mutated(DROPOUT)
    new["$defs"]["DropoutRecorded"]["properties"]["follow_up_offered"] = {
        "anyOf": [{"type": "boolean"}, {"type": "null"}],
        "default": None,
    }
    new["properties"]["traceparent"] = {"type": "string"}

    assert breaking_changes(old, new) == []


def test_documentation_changes_are_compatible() -> None:
    old, new = mutated(SURVEY)
    new["description"] = "reworded"
    new["$defs"]["Comment"]["properties"]["text"]["title"] = "Texte"
    new["examples"] = []

    assert breaking_changes(old, new) == []
