"""Typeform form_response webhooks: signature, mapping, duplicates, 4xx versus 503."""

from __future__ import annotations

import json
from typing import Any

import pytest

from boucle_collector.adapters.webhook_formats import typeform
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_contracts.feedback.v1 import (
    ChoiceAnswer,
    NpsAnswer,
    ScaleAnswer,
    SurveyResponseSubmittedV1,
)
from tests.unit.collector.collector_support import PSEUDONYM_SECRET, SECRETS, Collector

pytestmark = pytest.mark.unit

URL = "/v1/webhooks/typeform/tf-lyon"
CHANNEL = "webhooks/typeform"


def payload(token: str = "a3a12ec67a1365927098a606107fac15", **hidden: str) -> dict[str, Any]:
    """A form_response in Typeform's documented format (developer.typeform.com/webhooks)."""
    return {
        "event_id": "LtWXD3crgy",
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": token,
            "landed_at": "2025-03-18T18:07:02Z",
            "submitted_at": "2025-03-18T18:17:02Z",
            "hidden": {"site": "site-b", "session": "S-2025-03"} | hidden,
            "definition": {
                "id": "lT4Z3j",
                "title": "Votre avis à chaud",
                "fields": [
                    {
                        "id": "Rt3a1",
                        "title": "Note globale",
                        "type": "rating",
                        "ref": "overall_rating",
                    },
                    {"id": "Np7x", "title": "Recommanderiez-vous ?", "type": "nps", "ref": "nps"},
                    {"id": "DlXFaesGBpoF", "title": "Formateur", "type": "multiple_choice"},
                    {
                        "id": "Cm9",
                        "title": "Un commentaire ?",
                        "type": "long_text",
                        "ref": "comment",
                    },
                    {"id": "Em1", "title": "Votre email", "type": "email", "ref": "email"},
                    {"id": "Xx1", "title": "Question nouvelle", "type": "short_text"},
                    {"id": "Yn1", "title": "Accepte le recontact", "type": "yes_no"},
                ],
            },
            "answers": [
                {
                    "type": "number",
                    "number": 4,
                    "field": {"id": "Rt3a1", "type": "rating", "ref": "overall_rating"},
                },
                {
                    "type": "number",
                    "number": 9,
                    "field": {"id": "Np7x", "type": "nps", "ref": "nps"},
                },
                {
                    "type": "choices",
                    "choices": {
                        "ids": ["c1", "c2"],
                        "labels": ["Clair", "Disponible"],
                        "other": "Drôle",
                    },
                    "field": {"id": "DlXFaesGBpoF", "type": "multiple_choice"},
                },
                {
                    "type": "text",
                    "text": "Très bien, écrivez-moi à marie.dupont@exemple.fr ou au 06 12 34 56 78",
                    "field": {"id": "Cm9", "type": "long_text", "ref": "comment"},
                },
                {
                    "type": "email",
                    "email": "Marie.Dupont@exemple.fr",
                    "field": {"id": "Em1", "type": "email", "ref": "email"},
                },
                {
                    "type": "text",
                    "text": "Oui, 0612345678",
                    "field": {"id": "Xx1", "type": "short_text"},
                },
                {"type": "boolean", "boolean": True, "field": {"id": "Yn1", "type": "yes_no"}},
            ],
        },
    }


def post(
    collector: Collector, document: dict[str, Any], *, secret: str = SECRETS["TF_SECRET_NEW"]
) -> Any:
    body = json.dumps(document).encode()
    headers = {
        "Typeform-Signature": typeform.sign(secret, body),
        "content-type": "application/json",
    }
    return collector.client.post(URL, content=body, headers=headers)


def test_a_signed_response_is_published_mapped(webhooks: Collector) -> None:
    response = post(webhooks, payload())

    assert response.status_code == 200, response.text
    (event,) = webhooks.sink.events
    assert isinstance(event, SurveyResponseSubmittedV1)
    assert response.json() == {
        "status": "accepted",
        "event_id": event.id,
        "unmapped": 0,
        "dropped": 2,
        "reason": None,
    }
    assert (event.network_id, event.site_id, event.source) == (
        "net-1",
        "site-b",
        "/collector/webhooks/typeform",
    )
    data = event.data
    assert data.response_id == "typeform:lT4Z3j:a3a12ec67a1365927098a606107fac15"
    assert (data.channel, data.survey_kind.value, data.respondent_role.value) == (
        "typeform",
        "hot",
        "learner",
    )
    assert (data.training.programme_id, data.training.session_id) == ("prog-1", "S-2025-03")
    scale, nps, choice = data.answers
    assert isinstance(scale, ScaleAnswer)
    assert (scale.value, scale.dimension) == (4, "overall")
    assert scale.question_label == "Note globale"
    assert isinstance(nps, NpsAnswer)
    assert nps.value == 9
    assert isinstance(choice, ChoiceAnswer)
    assert (choice.value, choice.dimension) == (("Clair", "Disponible", "Drôle"), "trainer")
    (comment,) = data.comments
    assert comment.text == "Très bien, écrivez-moi à [email masqué] ou au [téléphone masqué]"
    assert data.respondent_ref == Pseudonymiser(PSEUDONYM_SECRET.encode()).pseudonym(
        "marie.dupont@exemple.fr"
    )
    # Questions no mapping declares (Xx1, Yn1) are dropped, not published, and counted.
    assert data.unmapped == ()
    assert "0612345678" not in event.to_json_bytes().decode()
    assert "dupont" not in event.to_json_bytes().decode().lower()
    assert webhooks.accepted(SurveyResponseSubmittedV1.EVENT_TYPE, CHANNEL) == 1
    dropped = {"channel": CHANNEL, "integration": "tf-lyon", "form": "lT4Z3j"}
    assert webhooks.sample("boucle_collector_dropped_answers_total", **dropped) == 2


def test_an_undeclared_name_question_is_dropped_not_published(webhooks: Collector) -> None:
    """The review's case: an unmapped "Nom" field gave ['Jean Dupont', …] on the topic."""
    document = payload(token="nom-1")
    document["form_response"]["answers"].append(
        {"type": "text", "text": "Jean Dupont", "field": {"id": "Nom", "type": "short_text"}}
    )
    document["form_response"]["hidden"]["nom_complet"] = "Jean Dupont"

    response = post(webhooks, document)

    assert response.status_code == 200, response.text
    assert response.json()["dropped"] == 4  # Xx1, Yn1, Nom and the hidden field
    (event,) = webhooks.sink.events
    assert "Jean" not in event.to_json_bytes().decode()


def test_both_secrets_of_a_rotation_are_accepted(webhooks: Collector) -> None:
    assert post(webhooks, payload("t1"), secret=SECRETS["TF_SECRET_OLD"]).status_code == 200
    assert post(webhooks, payload("t2"), secret=SECRETS["TF_SECRET_NEW"]).status_code == 200
    assert len(webhooks.sink.events) == 2


def test_a_redelivery_is_answered_duplicate_and_published_once(webhooks: Collector) -> None:
    first = post(webhooks, payload())
    again = post(webhooks, payload())

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "duplicate"
    assert again.json()["event_id"] == first.json()["event_id"]
    assert len(webhooks.sink.events) == 1


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "header Typeform-Signature is missing"),
        ({"Typeform-Signature": "abc"}, "must start with sha256="),
        ({"Typeform-Signature": typeform.sign("wrong-secret", b"{}")}, "does not match"),
    ],
    ids=["missing", "no-prefix", "wrong-secret"],
)
def test_an_unsigned_or_wrongly_signed_delivery_is_refused_401(
    webhooks: Collector, headers: dict[str, str], message: str
) -> None:
    response = webhooks.client.post(URL, content=json.dumps(payload()).encode(), headers=headers)

    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert webhooks.sink.events == []
    assert webhooks.rejected("bad_signature", CHANNEL) == 1


def test_a_tampered_body_fails_the_signature(webhooks: Collector) -> None:
    body = json.dumps(payload()).encode()
    signature = typeform.sign(SECRETS["TF_SECRET_NEW"], body)

    response = webhooks.client.post(
        URL,
        content=body.replace(b'"number": 4', b'"number": 1'),
        headers={"Typeform-Signature": signature},
    )

    assert response.status_code == 401


def test_other_event_types_are_acknowledged_and_ignored(webhooks: Collector) -> None:
    response = post(webhooks, {"event_id": "x", "event_type": "form_response_partial"})

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert webhooks.sink.events == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["form_response"].update(form_id="other"),
            "form 'other' is not mapped in integration tf-lyon",
        ),
        (
            lambda d: d["form_response"]["hidden"].update(site="site-z"),
            "site site-z is not among the sites",
        ),
        (lambda d: d["form_response"].pop("token"), "field token is missing"),
        (
            lambda d: d["form_response"].update(submitted_at="hier"),
            "submitted_at is not an ISO 8601",
        ),
        (lambda d: d["form_response"].update(answers=[]), "no answer of this response is mapped"),
    ],
    ids=["unmapped-form", "foreign-site", "no-token", "bad-date", "no-answer"],
)
def test_what_a_retry_cannot_fix_is_refused_422_naming_it(
    webhooks: Collector, change: Any, message: str
) -> None:
    document = payload()
    change(document)

    response = post(webhooks, document)

    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert webhooks.rejected("unmappable", CHANNEL) == 1


def test_a_body_that_is_not_json_is_refused_422(webhooks: Collector) -> None:
    body = b"not json"
    headers = {"Typeform-Signature": typeform.sign(SECRETS["TF_SECRET_NEW"], body)}

    response = webhooks.client.post(URL, content=body, headers=headers)

    assert response.status_code == 422
    assert "body is not JSON" in response.json()["detail"]


def test_a_rating_off_its_scale_is_kept_unmapped_not_dropped(webhooks: Collector) -> None:
    document = payload()
    document["form_response"]["answers"][0]["number"] = 7  # mapped on 1-5

    response = post(webhooks, document)

    assert response.status_code == 200
    data = webhooks.sink.events[0].data
    assert ("typeform:Rt3a1", "7") in [(u.question_id, u.raw_value) for u in data.unmapped]
    assert [a.type for a in data.answers] == ["nps", "choice"]


@pytest.mark.parametrize(
    "url", ["/v1/webhooks/typeform/unknown", "/v1/webhooks/tally/tf-lyon"], ids=["id", "platform"]
)
def test_an_unknown_integration_is_401_like_a_bad_signature(webhooks: Collector, url: str) -> None:
    """Not 404: which integrations exist is not for a prober to learn (see webhook_doors)."""
    body = json.dumps(payload()).encode()
    headers = {"Typeform-Signature": typeform.sign(SECRETS["TF_SECRET_NEW"], body)}

    reply = webhooks.client.post(url, content=body, headers=headers)

    assert reply.status_code == 401
    assert webhooks.sink.events == []


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_kafka_down_answers_503_so_typeform_retries(webhooks: Collector, mode: str) -> None:
    webhooks.sink.mode = mode

    refused = post(webhooks, payload())
    webhooks.sink.mode = "ok"
    retried = post(webhooks, payload())

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert (retried.status_code, retried.json()["status"]) == (200, "accepted")
    assert len(webhooks.sink.events) == 1
