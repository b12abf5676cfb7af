"""Erasure requests through the collector: who may ask, pseudonyms only on the topic."""

from __future__ import annotations

import json

import pytest

from boucle_collector.domain.privacy import Pseudonymiser
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    PSEUDONYM_SECRET,
    Collector,
    MakeCollector,
)
from tests.unit.collector.test_collector_mappings_api import ADMIN_KEY, ADMINS, OTHER_NETWORK_KEY

pytestmark = pytest.mark.unit
URL = "/v1/networks/net-1/privacy/erasures"
ADDRESS = "Jean.Dupont@example.fr"


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS + ADMINS)


def erasures(collector: Collector) -> list[SubjectErasureRequestedV1]:
    return [e for e in collector.sink.events if isinstance(e, SubjectErasureRequestedV1)]


def test_an_identity_becomes_the_pseudonym_intake_gave_it_and_only_that_is_published(
    collector: Collector,
) -> None:
    reply = collector.client.post(
        URL,
        json={"identities": [f"  {ADDRESS} "], "subject_refs": ["lrn-8842"]},
        headers={"X-Api-Key": ADMIN_KEY},
    )

    assert reply.status_code == 202, reply.text
    expected = Pseudonymiser(PSEUDONYM_SECRET.encode()).pseudonym(ADDRESS)
    events = erasures(collector)
    assert sorted(e.data.subject_ref for e in events) == sorted([expected, "lrn-8842"])
    assert {e.network_id for e in events} == {"net-1"}
    assert {e.data.requested_by for e in events} == {"quality-admin"}
    assert reply.json()["event_ids"] == [e.id for e in events]
    wire = b"".join(e.to_json_bytes() for e in events).decode().casefold()
    assert "dupont" not in wire
    assert "example.fr" not in wire
    assert "dupont" not in reply.text.casefold()


def test_the_same_request_id_publishes_the_same_events(collector: Collector) -> None:
    body = {"subject_refs": ["lrn-8842"], "request_id": "era-1"}
    first = collector.client.post(URL, json=body, headers={"X-Api-Key": ADMIN_KEY})
    again = collector.client.post(URL, json=body, headers={"X-Api-Key": ADMIN_KEY})

    assert first.json()["event_ids"] == again.json()["event_ids"]


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), ("key-unknown", 401), (OTHER_NETWORK_KEY, 403), ("key-network-wide", 403)],
)
def test_only_the_networks_administration_key_may_ask(
    collector: Collector, key: str | None, status: int
) -> None:
    headers = {"X-Api-Key": key} if key else {}
    reply = collector.client.post(URL, json={"subject_refs": ["lrn-8842"]}, headers=headers)

    assert reply.status_code == status
    assert erasures(collector) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"subject_refs": []}, {"subject_refs": [ADDRESS]}, {"identities": [""]}],
)
def test_nobody_or_an_address_as_a_pseudonym_is_refused(
    collector: Collector, body: dict[str, object]
) -> None:
    reply = collector.client.post(URL, json=body, headers={"X-Api-Key": ADMIN_KEY})

    assert reply.status_code == 422
    assert "dupont" not in json.dumps(reply.json()).casefold()
    assert erasures(collector) == []


def test_identities_without_a_secret_are_refused(make_collector: MakeCollector) -> None:
    collector = make_collector(integrations=API_INTEGRATIONS + ADMINS, pseudonymisation_secret=None)

    reply = collector.client.post(
        URL, json={"identities": [ADDRESS]}, headers={"X-Api-Key": ADMIN_KEY}
    )

    assert reply.status_code == 422
    assert "subject_refs" in reply.text


def test_a_broker_failure_says_the_outcome_is_unknown(collector: Collector) -> None:
    collector.sink.mode = "fail"

    reply = collector.client.post(
        URL, json={"subject_refs": ["lrn-8842"]}, headers={"X-Api-Key": ADMIN_KEY}
    )

    assert reply.status_code == 503
    assert "unknown" in reply.text
