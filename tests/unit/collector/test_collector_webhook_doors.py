"""The webhooks' door: one 401 for unknown integrations and bad signatures, and a limit on
failed attempts (429 before the body is read)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from boucle_collector.adapters.webhook_formats import (
    formbricks,
    jotform,
    kobotoolbox,
    surveymonkey,
    tally,
    typeform,
)
from boucle_collector.adapters.webhook_formats.common import Delivery
from boucle_collector.entrypoints.webhooks import DUMMY_SECRETS
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    Collector,
    MakeCollector,
)
from tests.unit.collector.test_collector_webhooks_typeform import payload

pytestmark = pytest.mark.unit

BODY = json.dumps(payload()).encode()
KNOWN = {
    "typeform": "tf-lyon",
    "tally": "tally-lyon",
    "surveymonkey": "sm-lyon",
    "formbricks": "fb-lyon",
    "kobotoolbox": "kobo-lyon",
    "jotform": "jotform-lyon",
}
# Wrong credentials in each platform's own format: what a prober would send.
BAD: dict[str, tuple[dict[str, str], str]] = {
    "typeform": ({"Typeform-Signature": typeform.sign("guess", BODY)}, ""),
    "tally": ({"Tally-Signature": tally.sign("guess", BODY)}, ""),
    "surveymonkey": (
        {"Sm-Apikey": "sm-api-key", "Sm-Signature": surveymonkey.sign("sm-api-key&x", BODY)},
        "",
    ),
    "formbricks": (
        {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,abc"},
        "",
    ),
    "kobotoolbox": ({"Authorization": kobotoolbox.basic("boucle:guess")}, ""),
    "jotform": ({}, "?token=guess"),
}


@pytest.fixture
def doors(make_collector: MakeCollector) -> Collector:
    return make_collector(
        integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
        bad_signature_burst=1000,
    )


def _attempt(client: TestClient, platform: str, integration: str, signed: bool = False) -> Any:
    headers, query = BAD[platform]
    if signed:  # the right Typeform signature, for the control
        headers = {"Typeform-Signature": typeform.sign(SECRETS["TF_SECRET_NEW"], BODY)}
    return client.post(
        f"/v1/webhooks/{platform}/{integration}{query}",
        content=BODY,
        headers={"content-type": "application/json", **headers},
    )


def _answer(reply: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    return reply.status_code, reply.content, sorted(reply.headers.items())


@pytest.mark.parametrize("platform", sorted(KNOWN))
def test_an_unknown_integration_is_answered_exactly_like_a_bad_signature(
    doors: Collector, platform: str
) -> None:
    """A 404/401 difference told which integrations exist: now the same status, body and
    headers, whether the id is unknown, of another platform, or known with a bad signature."""
    known = _attempt(doors.client, platform, KNOWN[platform])
    unknown = _attempt(doors.client, platform, "no-such-integration")
    other_platform = "tf-lyon" if platform != "typeform" else "tally-lyon"
    foreign = _attempt(doors.client, platform, other_platform)

    assert known.status_code == 401, known.text
    assert _answer(unknown) == _answer(known)
    assert _answer(foreign) == _answer(known)
    assert doors.sink.events == []
    channel = f"webhooks/{platform}"
    assert doors.rejected("bad_signature", channel) == 1  # operators still see which is which
    assert doors.rejected("unknown_integration", channel) == 2


@pytest.mark.parametrize(
    ("module", "platform"),
    [
        (typeform, "typeform"),
        (tally, "tally"),
        (surveymonkey, "surveymonkey"),
        (formbricks, "formbricks"),
        (kobotoolbox, "kobotoolbox"),
        (jotform, "jotform"),
    ],
)
def test_an_unknown_integration_is_verified_against_a_dummy_secret(
    doors: Collector, monkeypatch: pytest.MonkeyPatch, module: Any, platform: str
) -> None:
    """Similar timing: the same verification runs, with a secret of the platform's format."""
    verified: list[tuple[str, ...]] = []
    original: Callable[[Delivery, tuple[str, ...]], None] = module.verify

    def spy(delivery: Delivery, secrets: tuple[str, ...]) -> None:
        verified.append(secrets)
        original(delivery, secrets)

    monkeypatch.setattr(module, "verify", spy)

    reply = _attempt(doors.client, platform, "no-such-integration")

    assert reply.status_code == 401
    assert verified == [DUMMY_SECRETS[platform]]
    assert not set(DUMMY_SECRETS[platform]) & set(SECRETS.values())


def test_a_head_probe_does_not_tell_which_integrations_exist(doors: Collector) -> None:
    for url in ("/v1/webhooks/surveymonkey/sm-lyon", "/v1/webhooks/surveymonkey/nope"):
        assert doors.client.head(url).status_code == 200


def _client(collector: Collector, address: str) -> TestClient:
    return TestClient(collector.client.app, client=(address, 40000))


def test_failed_attempts_are_limited_per_address_and_per_url_before_the_body_is_read(
    make_collector: MakeCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = make_collector(
        integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
        bad_signature_burst=3,
        bad_signature_rate_per_second=0.01,
    )
    prober, other = _client(collector, "203.0.113.7"), _client(collector, "198.51.100.9")
    statuses = [_attempt(prober, "typeform", "tf-lyon").status_code for _ in range(3)]
    verified: list[int] = []
    original = typeform.verify

    def spy(delivery: Delivery, secrets: tuple[str, ...]) -> None:
        verified.append(1)
        original(delivery, secrets)

    monkeypatch.setattr(typeform, "verify", spy)

    limited = _attempt(prober, "typeform", "tf-lyon")

    assert statuses == [401, 401, 401]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many unsigned or wrongly signed attempts" in limited.json()["detail"]
    assert verified == []  # refused before the body was read and verified
    # The URL is now limited for everybody, the prober everywhere; others elsewhere are not.
    assert _attempt(other, "typeform", "tf-lyon").status_code == 429
    assert _attempt(prober, "tally", "tally-lyon").status_code == 429
    assert _attempt(other, "tally", "tally-lyon").status_code == 401
    assert collector.rejected("too_many_bad_signatures", "webhooks/typeform") == 2
    assert collector.rejected("too_many_bad_signatures", "webhooks/tally") == 1
    assert collector.sink.events == []


def test_unknown_ids_are_limited_like_bad_signatures(make_collector: MakeCollector) -> None:
    collector = make_collector(
        integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
        bad_signature_burst=2,
        bad_signature_rate_per_second=0.01,
    )
    guesses = [_attempt(collector.client, "typeform", f"guess-{n}").status_code for n in range(3)]

    assert guesses == [401, 401, 429]


def test_signed_deliveries_do_not_use_up_the_failed_attempts(
    make_collector: MakeCollector,
) -> None:
    collector = make_collector(
        integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
        bad_signature_burst=2,
        bad_signature_rate_per_second=0.01,
    )
    replies = [_attempt(collector.client, "typeform", "tf-lyon", signed=True) for _ in range(5)]

    assert [r.status_code for r in replies] == [200] * 5
