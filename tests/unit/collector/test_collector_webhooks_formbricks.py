"""Formbricks webhooks (Standard Webhooks): signature, time window against replays, mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from boucle_contracts.feedback.v1 import ChoiceAnswer, NpsAnswer, ScaleAnswer
from tests.unit.collector.collector_support import SECRETS, Collector

pytestmark = pytest.mark.unit

URL = "/v1/webhooks/formbricks/fb-lyon"
SECRET = SECRETS["FB_SECRET"]


def payload(event: str = "responseFinished", response_id: str = "clresp0001") -> dict[str, Any]:
    """A response webhook in Formbricks' documented format."""
    return {
        "webhookId": "clwebhook01",
        "event": event,
        "data": {
            "id": response_id,
            "createdAt": "2025-03-18T10:00:00.000Z",
            "updatedAt": "2025-03-18T10:02:30.000Z",
            "surveyId": "clsurvey01",
            "finished": True,
            "data": {
                "rating": 5,
                "nps": 10,
                "feedback": "Bravo à l'équipe, contact : paul@exemple.fr",
                "topics": ["Contenu", "Rythme"],
                "extra": "Réponse à une question ajoutée",
            },
            "meta": {"source": "link", "userAgent": {"browser": "Firefox"}},
            "language": "fr",
            "tags": [],
            "notes": [],
        },
    }


def post(
    collector: Collector,
    document: dict[str, Any],
    *,
    secret: str = SECRET,
    when: datetime | None = None,
    message_id: str = "msg_2Lh6",
) -> Any:
    body = json.dumps(document)
    moment = when or datetime.now(UTC)
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
    }
    return collector.client.post(URL, content=body.encode(), headers=headers)


def test_a_signed_finished_response_is_published(webhooks: Collector) -> None:
    response = post(webhooks, payload())

    assert response.status_code == 200, response.text
    assert (response.json()["unmapped"], response.json()["dropped"]) == (0, 1)
    data = webhooks.sink.events[0].data
    assert data.response_id == "formbricks:clsurvey01:clresp0001"
    rating, nps, topics = data.answers
    assert isinstance(rating, ScaleAnswer)
    assert rating.value == 5
    assert isinstance(nps, NpsAnswer)
    assert nps.value == 10
    assert isinstance(topics, ChoiceAnswer)
    assert topics.value == ("Contenu", "Rythme")
    assert data.comments[0].text == "Bravo à l'équipe, contact : [email masqué]"
    assert data.respondent_ref is None  # nothing identifies the respondent


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(timedelta(minutes=-6), "too old"), (timedelta(minutes=6), "too new")],
    ids=["replayed-late", "from-the-future"],
)
def test_a_delivery_outside_the_time_window_is_refused_401(
    webhooks: Collector, offset: timedelta, reason: str
) -> None:
    response = post(webhooks, payload(), when=datetime.now(UTC) + offset)

    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert webhooks.sink.events == []


def test_a_replay_within_the_window_is_a_duplicate(webhooks: Collector) -> None:
    first = post(webhooks, payload())
    replay = post(webhooks, payload())

    assert (first.json()["status"], replay.json()["status"]) == ("accepted", "duplicate")
    assert len(webhooks.sink.events) == 1


def test_a_wrong_secret_is_refused_401(webhooks: Collector) -> None:
    response = post(webhooks, payload(), secret="whsec_" + "QUJDREVGR0hJSktMTU5PUA==")

    assert response.status_code == 401
    assert "no matching signature" in response.json()["detail"].lower()


def test_missing_headers_are_named(webhooks: Collector) -> None:
    response = webhooks.client.post(URL, content=json.dumps(payload()).encode())

    assert response.status_code == 401
    assert (
        "webhook-id, webhook-signature, webhook-timestamp is missing" in response.json()["detail"]
    )


@pytest.mark.parametrize("event", ["responseCreated", "responseUpdated"])
def test_unfinished_responses_are_ignored(webhooks: Collector, event: str) -> None:
    response = post(webhooks, payload(event=event))

    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert webhooks.sink.events == []
