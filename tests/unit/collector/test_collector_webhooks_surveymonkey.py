"""SurveyMonkey: HEAD probe, id-only callbacks, details fetched from a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from boucle_collector.adapters.webhook_formats import surveymonkey
from boucle_contracts.feedback.v1 import ChoiceAnswer, ScaleAnswer
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    Collector,
    MakeCollector,
)

pytestmark = pytest.mark.unit

URL = "/v1/webhooks/surveymonkey/sm-lyon"
CHANNEL = "webhooks/surveymonkey"
FIXTURE = Path("/work/shared/fixtures/webhooks/surveymonkey-response-completed.callback.json")
CALLBACK = FIXTURE.read_bytes() if FIXTURE.exists() else json.dumps({
    "name": "My Webhook", "filter_type": "collector", "filter_id": "123456789",
    "event_type": "response_completed", "event_id": "123456789", "object_type": "response",
    "object_id": "123456", "event_datetime": "2016-01-01T21:56:31.182613+00:00",
    "resources": {"respondent_id": "123456789", "recipient_id": "123456789",
                  "collector_id": "123456789", "survey_id": "123456789", "user_id": "123456789"},
}).encode()  # fmt: skip
DETAILS = {
    "id": "123456",
    "survey_id": "123456789",
    "collector_id": "123456789",
    "response_status": "completed",
    "date_created": "2025-03-18T09:58:00+00:00",
    "date_modified": "2025-03-18T10:01:12+00:00",
    "first_name": "Marie",
    "email_address": "marie@exemple.fr",
    "pages": [
        {
            "id": "p1",
            "questions": [
                {
                    "id": "319352786",
                    "answers": [{"choice_id": "1326122776", "simple_text": "Satisfait"}],
                },
                {
                    "id": "319352790",
                    "answers": [
                        {"row_id": "9001", "choice_id": "c5", "simple_text": "5"},
                        {"row_id": "9002", "choice_id": "c3", "simple_text": "3"},
                    ],
                },
                {
                    "id": "319352787",
                    "answers": [
                        {
                            "text": "Salle trop petite, appelez le 0612345678",
                            "simple_text": "Salle trop petite, appelez le 0612345678",
                        }
                    ],
                },
                {
                    "id": "319352788",
                    "answers": [
                        {"choice_id": "a1", "simple_text": "Horaires"},
                        {"choice_id": "a2", "simple_text": "Accueil"},
                    ],
                },
                {
                    "id": "319352799",
                    "answers": [{"choice_id": "z1", "simple_text": "Par un collègue"}],
                },
            ],
        }
    ],
}


@dataclass
class FakeSurveyMonkey:
    """A real HTTP server on 127.0.0.1 answering /v3/surveys/{id}/responses/{id}/details."""

    url: str = ""
    status: int = 200
    document: dict[str, Any] = field(default_factory=lambda: dict(DETAILS))
    requests: list[tuple[str, str | None]] = field(default_factory=list)


@pytest.fixture
def fake_api() -> Iterator[FakeSurveyMonkey]:
    fake = FakeSurveyMonkey()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append((self.path, self.headers.get("Authorization")))
            body = json.dumps(fake.document).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def collector(make_collector: MakeCollector, fake_api: FakeSurveyMonkey) -> Collector:
    return make_collector(
        integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
        surveymonkey_base_url=fake_api.url,
        upstream_timeout_seconds=2.0,
    )


def post(
    collector: Collector, body: bytes = CALLBACK, headers: dict[str, str] | None = None
) -> Any:
    signed = {
        "Sm-Apikey": "sm-api-key",
        "Sm-Signature": surveymonkey.sign(SECRETS["SM_SECRET"], body),
    }
    return collector.client.post(URL, content=body, headers=signed | (headers or {}))


def test_the_subscription_url_answers_head_with_200(collector: Collector) -> None:
    assert collector.client.head(URL).status_code == 200
    # Any id, known or not: the probe must not tell which integrations exist.
    assert collector.client.head("/v1/webhooks/surveymonkey/nope").status_code == 200


def test_a_callback_fetches_the_response_and_publishes_it(
    collector: Collector, fake_api: FakeSurveyMonkey
) -> None:
    response = post(collector)

    assert response.status_code == 200, response.text
    assert fake_api.requests == [
        ("/v3/surveys/123456789/responses/123456/details?simple=true", "Bearer sm-access-token")
    ]
    (event,) = collector.sink.events
    data = event.data
    assert data.response_id == "surveymonkey:123456789:123456"
    assert data.submitted_at.isoformat() == "2025-03-18T10:01:12+00:00"
    overall, trainer, materials, organisation = data.answers
    assert isinstance(overall, ScaleAnswer)
    assert overall.value == 4
    assert isinstance(trainer, ScaleAnswer)
    assert (trainer.value, trainer.dimension) == (5, "trainer")
    assert isinstance(materials, ScaleAnswer)
    assert materials.value == 3
    assert isinstance(organisation, ChoiceAnswer)
    assert organisation.value == ("Horaires", "Accueil")
    assert data.comments[0].text == "Salle trop petite, appelez le [téléphone masqué]"
    assert data.unmapped == ()  # 319352799 is declared by no mapping: dropped, counted
    assert response.json()["dropped"] >= 1
    published = event.to_json_bytes().decode()
    assert "Marie" not in published
    assert "marie@" not in published


def test_a_repeated_callback_is_a_duplicate(collector: Collector) -> None:
    statuses = [post(collector).json()["status"] for _ in range(2)]

    assert statuses == ["accepted", "duplicate"]
    assert len(collector.sink.events) == 1


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Sm-Apikey": "another-app"}, "Sm-Apikey is not the API key"),
        ({"Sm-Signature": surveymonkey.sign("sm-api-key&wrong", CALLBACK)}, "does not match"),
        ({"Sm-Signature": ""}, "header Sm-Signature is missing"),
    ],
    ids=["other-app", "wrong-secret", "missing"],
)
def test_a_wrongly_signed_callback_is_refused_without_fetching(
    collector: Collector, fake_api: FakeSurveyMonkey, headers: dict[str, str], message: str
) -> None:
    response = post(collector, headers=headers)

    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert fake_api.requests == []


@pytest.mark.parametrize("status", [500, 429, 401])
def test_an_unavailable_api_answers_503_so_surveymonkey_retries(
    collector: Collector, fake_api: FakeSurveyMonkey, status: int
) -> None:
    fake_api.status = status

    response = post(collector)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert collector.sink.events == []
    assert collector.rejected("upstream_unavailable", CHANNEL) == 1


def test_an_unreachable_api_answers_503(make_collector: MakeCollector) -> None:
    collector = make_collector(
        integrations=WEBHOOK_INTEGRATIONS,
        surveymonkey_base_url="http://127.0.0.1:1",
        upstream_timeout_seconds=1.0,
    )

    assert post(collector).status_code == 503


def test_a_response_surveymonkey_does_not_know_is_422(
    collector: Collector, fake_api: FakeSurveyMonkey
) -> None:
    fake_api.status = 404

    response = post(collector)

    assert response.status_code == 422
    assert "SurveyMonkey has no response 123456" in response.json()["detail"]


def test_other_callbacks_are_ignored_without_fetching(
    collector: Collector, fake_api: FakeSurveyMonkey
) -> None:
    body = CALLBACK.replace(b"response_completed", b"response_disqualified")

    response = post(collector, body)

    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert fake_api.requests == []


def test_a_response_not_completed_is_ignored(
    collector: Collector, fake_api: FakeSurveyMonkey
) -> None:
    fake_api.document = DETAILS | {"response_status": "partial"}

    assert post(collector).json()["status"] == "ignored"
    assert collector.sink.events == []
