"""Mapping a parsed platform response onto the contract: identity, context, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from boucle_collector.domain.integrations import Integration
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.response_mapping import (
    MappingError,
    PlatformResponse,
    RawField,
    map_response,
    stable_id,
)

pytestmark = pytest.mark.unit

PSEUDONYMS = Pseudonymiser(b"mapping-test-secret-0123456789")


def integration(**form: Any) -> Integration:
    questions = {
        "q1": {"answer_type": "scale"},
        "who": {"role": "respondent_email"},
        "rid": {"role": "respondent_id"},
        "trainers": {"role": "trainer_id"},
        "site": {"role": "site_id"},
        "company": {"role": "company_id"},
    }
    return Integration.model_validate(
        {
            "id": "i1",
            "platform": "tally",
            "network_id": "n",
            "sites": ["s1", "s2"],
            "secrets": [{"env": "X"}],
            "pseudonymise": form.pop("pseudonymise", True),
            "forms": {
                "F": {
                    "site_id": "s1",
                    "survey_kind": "hot",
                    "respondent_role": "learner",
                    "questions": questions | form.pop("questions", {}),
                }
                | form
            },
        }
    )


def response(*fields: RawField) -> PlatformResponse:
    return PlatformResponse(
        platform="tally",
        form_id="F",
        response_id="R1",
        submitted_at=datetime(2025, 3, 18, tzinfo=UTC),
        fields=(RawField("q1", 3), *fields),
    )


def test_the_respondent_id_wins_over_email_and_is_pseudonymised() -> None:
    mapped = map_response(
        response(RawField("who", "a@b.fr"), RawField("rid", "R-9")),
        integration=integration(),
        pseudonymiser=PSEUDONYMS,
    )

    assert mapped.data.respondent_ref == PSEUDONYMS.pseudonym("R-9")


def test_without_pseudonymisation_only_a_platform_id_passes_never_an_email() -> None:
    plain = integration(pseudonymise=False)

    with_email = map_response(
        response(RawField("who", "a@b.fr")), integration=plain, pseudonymiser=PSEUDONYMS
    )
    with_id = map_response(
        response(RawField("rid", "R-9")), integration=plain, pseudonymiser=PSEUDONYMS
    )

    assert with_email.data.respondent_ref is None
    assert with_id.data.respondent_ref == "R-9"


@pytest.mark.parametrize("pseudonymise", [True, False], ids=["pseudonymised", "plain"])
def test_an_email_in_a_respondent_id_field_is_pseudonymised_when_a_secret_is_set(
    pseudonymise: bool,
) -> None:
    """A form that puts the address where its respondent id was expected: the address is
    never published; with a secret it becomes the pseudonym a respondent_email would get."""
    mapped = map_response(
        response(RawField("rid", "Jean.Dupont@exemple.fr")),
        integration=integration(pseudonymise=pseudonymise),
        pseudonymiser=PSEUDONYMS,
    )

    assert mapped.data.respondent_ref == PSEUDONYMS.pseudonym("jean.dupont@exemple.fr")
    assert "Dupont" not in mapped.data.model_dump_json()


def test_an_email_in_a_respondent_id_field_is_dropped_without_a_secret() -> None:
    mapped = map_response(
        response(RawField("rid", "jean.dupont@exemple.fr")),
        integration=integration(pseudonymise=False),
        pseudonymiser=None,
    )

    assert mapped.data.respondent_ref is None
    assert "dupont" not in mapped.data.model_dump_json()


def test_only_what_a_mapping_declares_is_published_the_rest_is_counted() -> None:
    """The review's case: an unmapped "Nom" field gave ['Jean Dupont', …] on the topic."""
    mapped = map_response(
        response(
            RawField("Nom", "Jean Dupont"),
            RawField("Prénom et nom", ("Jean", "Dupont")),
            RawField("q-new", 4),
        ),
        integration=integration(),
        pseudonymiser=PSEUDONYMS,
    )

    assert (mapped.dropped, mapped.unmapped) == (3, 0)
    assert mapped.data.unmapped == ()
    assert "Jean" not in mapped.data.model_dump_json()


def test_a_declared_answer_off_its_mapping_is_kept_raw_not_dropped() -> None:
    mapped = map_response(
        response(RawField("q2", 7)),
        integration=integration(questions={"q2": {"answer_type": "scale"}}),
        pseudonymiser=None,
    )

    assert (mapped.dropped, mapped.unmapped) == (0, 1)
    assert [(u.question_id, u.raw_value) for u in mapped.data.unmapped] == [("tally:q2", "7")]


def test_without_a_secret_identities_are_dropped() -> None:
    mapped = map_response(
        response(RawField("who", "a@b.fr")), integration=integration(), pseudonymiser=None
    )

    assert mapped.data.respondent_ref is None
    assert "a@b.fr" not in mapped.data.model_dump_json()


def test_context_fields_set_site_company_and_trainers() -> None:
    mapped = map_response(
        response(
            RawField("site", "s2"),
            RawField("company", "ACME-01"),
            RawField("trainers", ("T-1", "T 2 invalid")),
        ),
        integration=integration(),
        pseudonymiser=PSEUDONYMS,
    )

    assert mapped.site_id == "s2"
    assert mapped.data.company_id == "ACME-01"
    assert mapped.data.training.trainer_ids == ("T-1",)


def test_a_site_that_is_not_an_identifier_is_refused_naming_it() -> None:
    with pytest.raises(MappingError, match="question mapped to site_id holds 'Lyon centre'"):
        map_response(
            response(RawField("site", "Lyon centre")), integration=integration(), pseudonymiser=None
        )


def test_ignored_and_unanswered_questions_are_not_kept() -> None:
    mapped = map_response(
        response(RawField("consent", True), RawField("skipped", None), RawField("empty", "")),
        integration=integration(questions={"consent": {"role": "ignore"}}),
        pseudonymiser=None,
    )

    assert mapped.unmapped == 0
    assert mapped.data.unmapped == ()


def test_platform_ids_that_do_not_fit_an_identifier_are_hashed_stably() -> None:
    assert stable_id("typeform", "F1", "abc") == "typeform:F1:abc"
    odd = stable_id("tally", "form with spaces", "r#1")
    assert odd == stable_id("tally", "form with spaces", "r#1")
    assert odd.startswith("tally:")
    assert " " not in odd
    assert odd != stable_id("tally", "form with spaces", "r#2")


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ({"q": {"role": "comment", "answer_type": "text"}}, "answer_type only applies to answers"),
        (
            {"q": {"answer_type": "scale", "scale_min": 5, "scale_max": 5}},
            "scale_max (5) must exceed",
        ),
    ],
)
def test_question_mappings_are_validated(questions: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        integration(questions=questions)


def test_an_anonymous_form_cannot_map_an_identity() -> None:
    with pytest.raises(ValueError, match="anonymous form cannot map respondent_name"):
        integration(anonymous=True)
