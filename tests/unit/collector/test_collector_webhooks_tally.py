"""Tally FORM_RESPONSE webhooks: the captured fixture, every field type, what is signed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from boucle_collector.adapters.webhook_formats import tally
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_contracts.feedback.v1 import ChoiceAnswer, ScaleAnswer, TextAnswer
from tests.unit.collector.collector_support import PSEUDONYM_SECRET, SECRETS, Collector

pytestmark = pytest.mark.unit

URL = "/v1/webhooks/tally/tally-lyon"
FIXTURE = Path("/work/shared/fixtures/webhooks/tally-form-response.captured.json")
CAPTURED = (
    FIXTURE.read_bytes()
    if FIXTURE.exists()
    else (
        b'{"eventId":"8514703f-010f-401d-abf7-80a46b7498bb","eventType":"FORM_RESPONSE",'
        b'"createdAt":"2023-10-02T18:07:01.854Z","data":{"responseId":"jyqVba",'
        b'"submissionId":"jyqVba","respondentId":"a2OA9q","formId":"nP9995","formName":"TEST",'
        b'"createdAt":"2023-10-02T18:07:01.000Z","fields":[{"key":"question_rjkPRl",'
        b'"label":"short answer","type":"INPUT_TEXT","value":"Test 1540 1"}]}}'
    )
)
SECRET = SECRETS["TALLY_SECRET"]


def rich_payload(response_id: str = "mR4xQp") -> dict[str, Any]:
    """A FORM_RESPONSE with the field types of Tally's webhook documentation."""
    options = [{"id": "o-1", "text": "Horaires"}, {"id": "o-2", "text": "Accueil"}]
    return {
        "eventId": "e1d0b7d2-6c5e-4ad6-9f41-0c2e1f0b8a11",
        "eventType": "FORM_RESPONSE",
        "createdAt": "2025-03-18T10:00:01.000Z",
        "data": {
            "responseId": response_id,
            "submissionId": response_id,
            "respondentId": "r-77",
            "formId": "w7Xb2k",
            "formName": "Satisfaction à chaud",
            "createdAt": "2025-03-18T10:00:00.000Z",
            "fields": [
                {"key": "question_rating", "label": "Note", "type": "RATING", "value": 4},
                {
                    "key": "question_linear",
                    "label": "Plateforme",
                    "type": "LINEAR_SCALE",
                    "value": 8,
                },
                {
                    "key": "question_choice",
                    "label": "Ce qui a compté",
                    "type": "MULTIPLE_CHOICE",
                    "value": ["o-2"],
                    "options": options,
                },
                {
                    "key": "question_checkboxes",
                    "label": "Supports utilisés",
                    "type": "CHECKBOXES",
                    "value": ["o-1", "o-2"],
                    "options": options,
                },
                {
                    "key": "question_checkboxes_o-1",
                    "label": "Supports (Horaires)",
                    "type": "CHECKBOXES",
                    "value": True,
                },
                {
                    "key": "question_comment",
                    "label": "Commentaire",
                    "type": "TEXTAREA",
                    "value": "Joignable au +33 6 12 34 56 78",
                },
                {
                    "key": "question_name",
                    "label": "Nom",
                    "type": "INPUT_TEXT",
                    "value": "Marie Dupont",
                },
                {"key": "question_h1", "label": "session", "type": "HIDDEN_FIELDS", "value": "S-7"},
                {
                    "key": "question_dd",
                    "label": "Ville",
                    "type": "DROPDOWN",
                    "value": ["o-9"],
                    "options": options,
                },
                {
                    "key": "question_empty",
                    "label": "Facultatif",
                    "type": "INPUT_TEXT",
                    "value": None,
                },
            ],
        },
    }


def post(collector: Collector, body: bytes, signature: str | None = None) -> Any:
    headers = {"Tally-Signature": signature or tally.sign(SECRET, body)}
    return collector.client.post(URL, content=body, headers=headers)


def test_the_captured_payload_is_accepted_with_its_raw_body_signed(webhooks: Collector) -> None:
    response = post(webhooks, CAPTURED)

    assert response.status_code == 200, response.text
    (event,) = webhooks.sink.events
    data = event.data
    assert data.response_id == "tally:nP9995:jyqVba"
    assert data.submitted_at.isoformat() == "2023-10-02T18:07:01+00:00"
    (answer,) = data.answers
    assert isinstance(answer, TextAnswer)
    assert (answer.question_id, answer.value, answer.question_label) == (
        "question_rjkPRl",
        "Test 1540 1",
        "short answer",
    )


def test_a_signature_of_the_reserialised_json_is_accepted_too(webhooks: Collector) -> None:
    """Tally's example signs JSON.stringify(payload): compact, keys in order, UTF-8 kept."""
    document = json.loads(CAPTURED)
    pretty = json.dumps(document, indent=2).encode()  # what a proxy might forward
    stringified = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    response = post(webhooks, pretty, tally.sign(SECRET, stringified))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "signature",
    [tally.sign("wrong", CAPTURED), "sha256=" + tally.sign(SECRET, CAPTURED), ""],
    ids=["wrong-secret", "typeform-style-prefix", "empty"],
)
def test_a_wrong_signature_is_refused_401(webhooks: Collector, signature: str) -> None:
    response = webhooks.client.post(URL, content=CAPTURED, headers={"Tally-Signature": signature})

    assert response.status_code == 401
    assert webhooks.sink.events == []


def test_every_field_type_is_mapped_with_option_ids_as_labels(webhooks: Collector) -> None:
    response = post(webhooks, json.dumps(rich_payload()).encode())

    assert response.status_code == 200, response.text
    data = webhooks.sink.events[0].data
    rating, linear, choice, checkboxes = data.answers
    assert isinstance(rating, ScaleAnswer)
    assert (rating.value, rating.scale_max) == (4, 5)
    assert isinstance(linear, ScaleAnswer)
    assert (linear.value, linear.scale_min, linear.scale_max, linear.dimension) == (
        8,
        0,
        10,
        "platform",
    )
    assert isinstance(choice, ChoiceAnswer)
    assert choice.value == ("Accueil",)
    assert isinstance(checkboxes, ChoiceAnswer)
    assert checkboxes.value == ("Horaires", "Accueil")
    assert data.comments[0].text == "Joignable au [téléphone masqué]"
    assert data.training.session_id == "S-7"  # hidden field mapped by its name
    assert data.respondent_ref == Pseudonymiser(PSEUDONYM_SECRET.encode()).pseudonym("marie dupont")
    # The dropdown no mapping declares is dropped and counted; the per-option echo and empty
    # answers are not data, so not counted.
    assert data.unmapped == ()
    assert response.json()["dropped"] == 1


def test_an_anonymous_form_stays_anonymous(webhooks: Collector) -> None:
    document = rich_payload()
    document["data"]["formId"] = "anon01"
    fields = document["data"]["fields"]
    document["data"]["fields"] = [f for f in fields if f["key"] != "question_name"]

    assert post(webhooks, json.dumps(document).encode()).status_code == 200

    data = webhooks.sink.events[0].data
    assert data.anonymous is True
    assert data.respondent_ref is None  # though Tally sends a respondentId
    published = webhooks.sink.events[0].to_json_bytes().decode()
    assert "r-77" not in published
    assert "+33 6" not in published


def test_a_duplicate_delivery_publishes_once(webhooks: Collector) -> None:
    body = json.dumps(rich_payload()).encode()

    answers = [post(webhooks, body).json()["status"] for _ in range(3)]

    assert answers == ["accepted", "duplicate", "duplicate"]
    assert len(webhooks.sink.events) == 1


def test_other_events_are_ignored(webhooks: Collector) -> None:
    body = json.dumps({"eventId": "x", "eventType": "FORM_PARTIAL", "data": {}}).encode()

    response = post(webhooks, body)

    assert (response.status_code, response.json()["status"]) == (200, "ignored")
