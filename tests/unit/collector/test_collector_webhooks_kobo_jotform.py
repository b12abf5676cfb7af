"""KoboToolbox REST Services (basic auth, JSON) and Jotform (multipart rawRequest, URL token)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from boucle_collector.adapters.webhook_formats.kobotoolbox import basic
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_contracts.feedback.v1 import ChoiceAnswer, NpsAnswer, ScaleAnswer
from tests.unit.collector.collector_support import PSEUDONYM_SECRET, SECRETS, Collector

pytestmark = pytest.mark.unit

KOBO_URL = "/v1/webhooks/kobotoolbox/kobo-lyon"
JOTFORM_URL = "/v1/webhooks/jotform/jotform-lyon"


def kobo_submission(uuid: str = "f2a6c1de-5b0e-4c8e-9d35-0f6f3a9d7e21") -> dict[str, Any]:
    """A submission as KoboToolbox's REST Service posts it (JSON, flat question paths)."""
    return {
        "_id": 172_445,
        "_uuid": uuid,
        "_xform_id_string": "aW8kLmPq2",
        "_submission_time": "2025-03-18T10:04:11",
        "_status": "submitted_via_web",
        "_submitted_by": None,
        "formhub/uuid": "0b0f9c6c2a3d4c0e",
        "meta/instanceID": f"uuid:{uuid}",
        "start": "2025-03-18T11:01:02.000+01:00",
        "end": "2025-03-18T11:04:09.000+01:00",
        "satisfaction": "4",
        "supports": "livret video",
        "grp_avis/commentaire": "Formateur joignable au 06 11 22 33 44, parfait",
        "grp_avis/remarque_libre": "RAS",
    }


def post_kobo(collector: Collector, document: dict[str, Any], credentials: str) -> Any:
    return collector.client.post(
        KOBO_URL, json=document, headers={"Authorization": basic(credentials)}
    )


def test_a_kobo_submission_with_the_right_credentials_is_published(webhooks: Collector) -> None:
    response = post_kobo(webhooks, kobo_submission(), SECRETS["KOBO_CREDENTIALS"])

    assert response.status_code == 200, response.text
    data = webhooks.sink.events[0].data
    assert data.response_id == "kobotoolbox:aW8kLmPq2:f2a6c1de-5b0e-4c8e-9d35-0f6f3a9d7e21"
    assert data.submitted_at.isoformat() == "2025-03-18T10:04:11+00:00"
    assert data.respondent_role.value == "company"
    satisfaction, supports = data.answers
    assert isinstance(satisfaction, ScaleAnswer)
    assert satisfaction.value == 4
    assert isinstance(supports, ChoiceAnswer)
    assert supports.value == ("Livret", "Vidéos")
    assert data.comments[0].text == "Formateur joignable au [téléphone masqué], parfait"
    # grp_avis/remarque_libre is declared by no mapping: dropped, counted.
    assert data.unmapped == ()
    assert response.json()["dropped"] == 1


@pytest.mark.parametrize(
    "authorization",
    [basic("boucle:wrong"), "Bearer abc", "Basic %%%"],
    ids=["wrong-password", "not-basic", "not-base64"],
)
def test_kobo_without_the_right_credentials_is_401(webhooks: Collector, authorization: str) -> None:
    response = webhooks.client.post(
        KOBO_URL, json=kobo_submission(), headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert webhooks.sink.events == []


def test_a_kobo_resubmission_is_a_duplicate(webhooks: Collector) -> None:
    answers = [
        post_kobo(webhooks, kobo_submission(), SECRETS["KOBO_CREDENTIALS"]).json()["status"]
        for _ in range(2)
    ]

    assert answers == ["accepted", "duplicate"]


def jotform_fields(submission_id: str = "5870000000000000001") -> dict[str, str]:
    """The multipart fields Jotform posts: formID, submissionID and rawRequest (JSON)."""
    raw = {
        "slug": "submit/230000000000/",
        "q3_name": {"first": "Marie", "last": "Dupont"},
        "q5_noteGlobale": "5",
        "q6_commentaire": "Très bien, écrire à marie.dupont@exemple.fr",
        "q7_recommandation": "9",
        "q8_points": ["Horaires", "Accueil"],
        "q9_nouvelle": "Une remarque",
        "event_id": "1710756000000_230000000000_abcd",
        "submitDate": "1710756000000",
    }
    return {
        "action": "",
        "formID": "230000000000",
        "submissionID": submission_id,
        "formTitle": "Satisfaction à chaud",
        "rawRequest": json.dumps(raw),
        "pretty": "Nom:Marie Dupont, Note:5",
        "type": "WEB",
    }


def post_jotform(collector: Collector, fields: dict[str, str], token: str | None) -> Any:
    url = JOTFORM_URL + (f"?token={token}" if token is not None else "")
    files = {"_": ("", b"")}  # force multipart/form-data, as Jotform sends
    return collector.client.post(url, data=fields, files=files)


def test_a_jotform_submission_is_read_from_multipart_raw_request(webhooks: Collector) -> None:
    response = post_jotform(webhooks, jotform_fields(), SECRETS["JOTFORM_TOKEN"])

    assert response.status_code == 200, response.text
    data = webhooks.sink.events[0].data
    assert data.response_id == "jotform:230000000000:5870000000000000001"
    assert data.submitted_at.isoformat() == "2024-03-18T10:00:00+00:00"
    overall, nps, points = data.answers
    assert isinstance(overall, ScaleAnswer)
    assert overall.value == 5
    assert isinstance(nps, NpsAnswer)
    assert nps.value == 9
    assert isinstance(points, ChoiceAnswer)
    assert points.value == ("Horaires", "Accueil")
    assert data.comments[0].text == "Très bien, écrire à [email masqué]"
    assert data.respondent_ref == Pseudonymiser(PSEUDONYM_SECRET.encode()).pseudonym("marie dupont")
    assert data.unmapped == ()  # q9_nouvelle is declared by no mapping: dropped, counted
    assert response.json()["dropped"] == 1
    assert "Dupont" not in webhooks.sink.events[0].to_json_bytes().decode()


@pytest.mark.parametrize("token", [None, "", "wrong"], ids=["absent", "empty", "wrong"])
def test_jotform_without_the_url_token_is_401(webhooks: Collector, token: str | None) -> None:
    response = post_jotform(webhooks, jotform_fields(), token)

    assert response.status_code == 401
    assert webhooks.sink.events == []


def test_jotform_without_raw_request_is_422(webhooks: Collector) -> None:
    fields = jotform_fields()
    del fields["rawRequest"]

    response = post_jotform(webhooks, fields, SECRETS["JOTFORM_TOKEN"])

    assert response.status_code == 422
    assert "field rawRequest is missing" in response.json()["detail"]


def test_a_jotform_redelivery_is_a_duplicate(webhooks: Collector) -> None:
    first = post_jotform(webhooks, jotform_fields(), SECRETS["JOTFORM_TOKEN"])
    again = post_jotform(webhooks, jotform_fields(), SECRETS["JOTFORM_TOKEN"])

    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    assert len(webhooks.sink.events) == 1
