"""``PUT /v1/networks/{n}/referential``: names of sites, programmes and people as events."""

from __future__ import annotations

from typing import Any

import pytest

from boucle_contracts.referential.v1 import PersonNamedV1, ProgrammeNamedV1, SiteNamedV1
from tests.unit.collector.collector_support import API_INTEGRATIONS, KEYS, Collector, MakeCollector

pytestmark = pytest.mark.unit

URL = "/v1/networks/net-1/referential"
DOCUMENT: dict[str, Any] = {
    "sites": [{"site_id": "site-a", "name": "Lyon Part-Dieu"}],
    "programmes": [{"programme_id": "prog-1", "name": "Gestion de projet"}],
    "people": [
        {
            "person_id": "fmt-1",
            "name": "Claire Martin",
            "role": "trainer",
            "title": "Formatrice",
            "site_id": "site-a",
        },
        {"person_id": "dir-1", "name": "Karim Benali", "role": "director"},
    ],
}
NETWORK_KEY = {"X-Api-Key": KEYS["network"]}


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS)


def test_each_entry_becomes_one_event_with_its_name(collector: Collector) -> None:
    response = collector.client.put(URL, json=DOCUMENT, headers=NETWORK_KEY)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 4
    site, programme, trainer, director = collector.sink.events
    assert isinstance(site, SiteNamedV1)
    assert (site.site_id, site.data.name) == ("site-a", "Lyon Part-Dieu")
    assert isinstance(programme, ProgrammeNamedV1)
    assert programme.site_id is None
    assert programme.data.name == "Gestion de projet"
    assert isinstance(trainer, PersonNamedV1)
    assert isinstance(director, PersonNamedV1)
    assert (trainer.data.name, trainer.data.role, trainer.data.title) == (
        "Claire Martin",
        "trainer",
        "Formatrice",
    )
    assert {e.network_id for e in collector.sink.events} == {"net-1"}


def test_the_same_referential_again_publishes_nothing_new(collector: Collector) -> None:
    first = collector.client.put(URL, json=DOCUMENT, headers=NETWORK_KEY).json()
    again = collector.client.put(URL, json=DOCUMENT, headers=NETWORK_KEY).json()

    assert again["accepted"] == 0
    assert again["duplicates"] == 4
    assert [i["event_id"] for i in again["items"]] == [i["event_id"] for i in first["items"]]
    assert len(collector.sink.events) == 4


def test_a_renamed_entry_is_a_new_event(collector: Collector) -> None:
    collector.client.put(URL, json=DOCUMENT, headers=NETWORK_KEY)
    renamed = {"sites": [{"site_id": "site-a", "name": "Lyon Confluence"}]}

    body = collector.client.put(URL, json=renamed, headers=NETWORK_KEY).json()

    assert body["accepted"] == 1
    assert collector.sink.events[-1].data.name == "Lyon Confluence"


@pytest.mark.parametrize(
    "document",
    [
        {"sites": [{"site_id": "site-a", "name": "A"}, {"site_id": "site-a", "name": "B"}]},
        {"sites": [{"site_id": "site a", "name": "A"}]},
        {"programmes": [{"programme_id": "prog-1", "name": "  "}]},
        {"people": [{"person_id": "p", "name": "Claire\nMartin"}]},
        {"people": [{"person_id": "p", "name": "Claire", "role": "Formatrice"}]},
        {"trainers": [{"person_id": "p", "name": "Claire"}]},
    ],
    ids=["id-twice", "bad-id", "blank-name", "control-char", "role-not-a-slug", "unknown-list"],
)
def test_an_invalid_referential_is_refused_whole(
    collector: Collector, document: dict[str, Any]
) -> None:
    response = collector.client.put(URL, json=document, headers=NETWORK_KEY)

    assert response.status_code == 422, response.text
    assert collector.sink.events == []


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        (URL, {}, 401),
        (URL, {"X-Api-Key": KEYS["lyon-1"]}, 403),  # a key for one site only
        ("/v1/networks/net-2/referential", NETWORK_KEY, 403),  # another network
    ],
    ids=["no-key", "site-key", "other-network"],
)
def test_only_a_network_wide_key_of_the_network_may_name(
    collector: Collector, url: str, headers: dict[str, str], status: int
) -> None:
    response = collector.client.put(url, json=DOCUMENT, headers=headers)

    assert response.status_code == status, response.text
    assert collector.sink.events == []


def test_kafka_down_answers_503_and_a_retry_is_safe(collector: Collector) -> None:
    collector.sink.mode = "fail"
    assert collector.client.put(URL, json=DOCUMENT, headers=NETWORK_KEY).status_code == 503

    collector.sink.mode = "ok"
    body = collector.client.put(URL, json=DOCUMENT, headers=NETWORK_KEY).json()

    assert body["accepted"] == 4
    assert len({e.id for e in collector.sink.events}) == 4
