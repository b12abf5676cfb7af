"""Mappings managed through the API: permission, validation on write, revisions, effect."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from boucle_collector.adapters.integrations_file import parse_integrations
from boucle_collector.adapters.mapping_cache import ManagedMappings
from boucle_collector.adapters.memory import InMemoryMappingStore
from boucle_collector.adapters.webhook_formats.kobotoolbox import basic
from boucle_collector.domain.integrations import FormMapping, hash_key
from boucle_collector.domain.mapping_revisions import InvalidMappingError, checked_mapping
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    KEYS,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    Collector,
    MakeCollector,
)
from tests.unit.collector.test_collector_webhooks_kobo_jotform import KOBO_URL, kobo_submission

pytestmark = pytest.mark.unit

ADMIN_KEY, OTHER_NETWORK_KEY = "key-quality-admin", "key-other-network-admin"
ADMINS: list[dict[str, Any]] = [
    {
        "id": "quality-admin",
        "platform": "api",
        "network_id": "net-1",
        "sites": ["*"],
        "api_keys": [{"id": "admin-1", "sha256": hash_key(ADMIN_KEY)}],
        "manage_mappings": True,
    },
    {
        "id": "other-admin",
        "platform": "api",
        "network_id": "net-2",
        "sites": ["*"],
        "api_keys": [{"id": "admin-2", "sha256": hash_key(OTHER_NETWORK_KEY)}],
        "manage_mappings": True,
    },
]
KOBO_FORM = "/v1/networks/net-1/integrations/kobo-lyon/mappings/aW8kLmPq2"
NEW_KOBO_MAPPING: dict[str, Any] = {
    "site_id": "site-a",
    "survey_kind": "cold",
    "respondent_role": "company",
    "questions": {
        "satisfaction": {"answer_type": "scale", "dimension": "trainer"},
        "grp_avis/remarque_libre": {"role": "comment"},
    },
}


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS + ADMINS)


def admin(**headers: str) -> dict[str, str]:
    return {"X-Api-Key": ADMIN_KEY, **headers}


def post_kobo(collector: Collector, uuid: str) -> Any:
    return collector.client.post(
        KOBO_URL,
        json=kobo_submission(uuid),
        headers={"Authorization": basic(SECRETS["KOBO_CREDENTIALS"])},
    )


def test_a_mapping_put_through_the_api_is_used_by_the_next_webhook(collector: Collector) -> None:
    before = post_kobo(collector, "uuid-before")
    assert before.json()["dropped"] == 1  # grp_avis/remarque_libre, unmapped in the file

    created = collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin())

    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.json()["revision"] == 1
    assert created.json()["updated_by"] == "quality-admin/admin-1"
    after = post_kobo(collector, "uuid-after")
    assert after.status_code == 200, after.text
    data = collector.sink.events[-1].data
    assert data.survey_kind.value == "cold"
    assert [(a.question_id, a.dimension) for a in data.answers] == [("satisfaction", "trainer")]
    assert [c.text for c in data.comments] == ["RAS"]
    # supports and grp_avis/commentaire are not in the new mapping: dropped and counted
    assert data.unmapped == ()
    assert after.json()["dropped"] == 2


def test_get_says_where_the_effective_mapping_comes_from(collector: Collector) -> None:
    from_file = collector.client.get(KOBO_FORM, headers=admin())
    assert from_file.status_code == 200
    assert from_file.json()["source"] == "file"
    assert from_file.json()["revision"] is None
    assert "ETag" not in from_file.headers

    collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin())
    from_api = collector.client.get(KOBO_FORM, headers=admin())
    assert from_api.json()["source"] == "api"
    assert from_api.headers["ETag"] == '"1"'

    listed = collector.client.get(
        "/v1/networks/net-1/integrations/kobo-lyon/mappings", headers=admin()
    )
    assert [(i["form_id"], i["source"]) for i in listed.json()["items"]] == [("aW8kLmPq2", "api")]
    other = collector.client.put(
        "/v1/networks/net-1/integrations/kobo-lyon/mappings/second-form",
        json=NEW_KOBO_MAPPING,
        headers=admin(),
    )
    assert other.status_code == 201
    missing = collector.client.get(
        "/v1/networks/net-1/integrations/kobo-lyon/mappings/nope", headers=admin()
    )
    assert missing.status_code == 404


def test_a_stale_write_is_409_and_a_current_one_increments_the_revision(
    collector: Collector,
) -> None:
    assert (
        collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin()).status_code == 201
    )

    again = collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin())
    assert again.status_code == 409
    assert "revision 1" in again.json()["detail"]

    replaced = collector.client.put(
        KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin(**{"If-Match": '"1"'})
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["revision"] == 2

    stale = collector.client.put(
        KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin(**{"If-Match": '"1"'})
    )
    assert stale.status_code == 409
    assert "expected revision 1" in stale.json()["detail"]
    assert "revision 2" in stale.json()["detail"]

    by_query = collector.client.put(
        KOBO_FORM, params={"expected_revision": 2}, json=NEW_KOBO_MAPPING, headers=admin()
    )
    assert by_query.json()["revision"] == 3
    assert collector.rejected("stale_revision", "mappings") == 2

    bad_tag = collector.client.put(
        KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin(**{"If-Match": "*"})
    )
    assert bad_tag.status_code == 422
    assert "If-Match" in bad_tag.json()["detail"]


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (
            {"questions": {"satisfaction": {"dimension": "overall"}}},
            ["body", "questions", "satisfaction"],
            "answer_type",
        ),
        ({"site_id": "site-z"}, ["body"], "site site-z is not in sites"),
        (
            {"anonymous": True, "questions": {"mail": {"role": "respondent_email"}}},
            ["body"],
            "anonymous",
        ),
        (
            {"questions": {"q": {"answer_type": "scale", "scale_min": 5, "scale_max": 1}}},
            ["body", "questions", "q"],
            "scale_max",
        ),
        ({"survey_kind": "weekly"}, ["body", "survey_kind"], "hot"),
    ],
    ids=["answer-type", "site", "anonymous-identity", "scale", "survey-kind"],
)
def test_an_invalid_mapping_is_422_naming_the_field_and_nothing_changes(
    collector: Collector, change: dict[str, Any], where: list[str], problem: str
) -> None:
    response = collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING | change, headers=admin())

    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"][: len(where)] == where and problem in e["msg"] for e in errors), errors
    assert collector.client.get(KOBO_FORM, headers=admin()).json()["source"] == "file"


@pytest.mark.parametrize(
    ("headers", "path", "code"),
    [
        ({}, KOBO_FORM, 401),
        ({"X-Api-Key": "not-a-key"}, KOBO_FORM, 401),
        ({"X-Api-Key": KEYS["network"]}, KOBO_FORM, 403),  # a writing key, no permission
        ({"X-Api-Key": OTHER_NETWORK_KEY}, KOBO_FORM, 403),
        ({"X-Api-Key": OTHER_NETWORK_KEY}, KOBO_FORM.replace("net-1", "net-2"), 404),
        ({"X-Api-Key": ADMIN_KEY}, KOBO_FORM.replace("kobo-lyon", "nope"), 404),
    ],
    ids=["no-key", "unknown-key", "site-key", "other-network", "not-in-network", "unknown"],
)
def test_only_a_key_with_manage_mappings_in_the_network_may_write(
    collector: Collector, headers: dict[str, str], path: str, code: int
) -> None:
    response = collector.client.put(path, json=NEW_KOBO_MAPPING, headers=headers)

    assert response.status_code == code, response.text
    assert collector.client.get(KOBO_FORM, headers=admin()).json()["source"] == "file"


def test_delete_brings_the_file_mapping_back_and_respects_the_revision(
    collector: Collector,
) -> None:
    collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin())

    stale = collector.client.delete(KOBO_FORM, headers=admin(**{"If-Match": '"7"'}))
    assert stale.status_code == 409
    deleted = collector.client.delete(KOBO_FORM, headers=admin(**{"If-Match": '"1"'}))
    assert deleted.status_code == 204
    assert collector.client.delete(KOBO_FORM, headers=admin()).status_code == 404

    assert collector.client.get(KOBO_FORM, headers=admin()).json()["source"] == "file"
    post_kobo(collector, "uuid-after-delete")
    assert collector.sink.events[-1].data.survey_kind.value == "hot"  # the file's mapping


def test_a_revision_beyond_int64_is_422_not_a_server_error(collector: Collector) -> None:
    """Found by schemathesis: the database cannot hold it, so it is refused up front."""
    collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin())
    huge = str(2**63)
    by_header = collector.client.delete(KOBO_FORM, headers=admin(**{"If-Match": f'"{huge}"'}))
    assert by_header.status_code == 422
    assert "If-Match" in by_header.json()["detail"]
    by_query = collector.client.delete(
        KOBO_FORM, params={"expected_revision": huge}, headers=admin()
    )
    assert by_query.status_code == 422
    assert collector.client.get(KOBO_FORM, headers=admin()).json()["source"] == "api"


def test_a_write_of_another_replica_is_seen_after_a_refresh() -> None:
    async def scenario() -> None:
        store = InMemoryMappingStore()
        here = ManagedMappings(store)
        await here.refresh()
        version = here.version
        await store.put(  # through another replica
            network_id="net-1",
            integration_id="kobo-lyon",
            form_id="f1",
            mapping=FormMapping.model_validate(NEW_KOBO_MAPPING),
            expected_revision=None,
            updated_at=datetime.now(UTC),
            updated_by="elsewhere",
        )
        assert here.forms == {}  # stale until the next refresh
        await here.refresh()
        assert set(here.forms[("net-1", "kobo-lyon")]) == {"f1"}
        assert here.version == version + 1
        await here.refresh()  # nothing new: same version, the merge is not recomputed
        assert here.version == version + 1
        await store.delete(  # deleted and re-created elsewhere: revision 1 again
            network_id="net-1", integration_id="kobo-lyon", form_id="f1", expected_revision=1
        )
        await store.put(
            network_id="net-1",
            integration_id="kobo-lyon",
            form_id="f1",
            mapping=FormMapping.model_validate(NEW_KOBO_MAPPING | {"survey_kind": "annual"}),
            expected_revision=None,
            updated_at=datetime.now(UTC),
            updated_by="elsewhere",
        )
        await here.refresh()
        assert here.forms[("net-1", "kobo-lyon")]["f1"].survey_kind.value == "annual"
        await store.delete(
            network_id="net-1", integration_id="kobo-lyon", form_id="f1", expected_revision=1
        )
        await here.refresh()
        assert here.forms == {}

    asyncio.run(scenario())


def test_api_mappings_reach_the_integration_of_an_authenticated_key() -> None:
    tenancy = parse_integrations(json.dumps({"integrations": API_INTEGRATIONS}), environ={})
    extra = FormMapping.model_validate(NEW_KOBO_MAPPING)
    replaced = FormMapping.model_validate(
        tenancy.integrations["tms-lyon"].forms["paper-hot"].model_dump() | {"survey_kind": "cold"}
    )

    merged = tenancy.with_forms(
        {
            ("net-1", "tms-lyon"): {"api-form": extra, "paper-hot": replaced},
            ("net-2", "quality-team"): {"elsewhere": extra},  # another network: not applied
        }
    )

    caller = merged.authenticate(KEYS["lyon-1"])
    assert caller is not None
    assert set(caller.integration.forms) == {"api-form", "paper-hot"}
    assert caller.integration.forms["paper-hot"].survey_kind.value == "cold"
    assert merged.integrations["quality-team"].forms == {}
    assert set(tenancy.integrations["tms-lyon"].forms) == {"paper-hot"}  # the file's, unchanged


def test_manage_mappings_is_a_permission_of_api_integrations_only() -> None:
    webhook = {**WEBHOOK_INTEGRATIONS[0], "manage_mappings": True}

    with pytest.raises(ValueError, match="manage_mappings is a permission of api integrations"):
        parse_integrations(json.dumps({"integrations": [webhook]}), environ=SECRETS)


def test_checked_mapping_locates_errors_inside_the_mapping() -> None:
    integration = parse_integrations(
        json.dumps({"integrations": API_INTEGRATIONS}), environ={}
    ).integrations["tms-lyon"]
    bad = NEW_KOBO_MAPPING | {"questions": {"q": {"role": "comment", "answer_type": "text"}}}

    with pytest.raises(InvalidMappingError) as caught:
        checked_mapping(integration, "f", bad)

    assert [loc for loc, _ in caught.value.errors] == [("questions", "q")]
    assert "answer_type only applies to answers" in str(caught.value)


def test_the_refresh_loop_keeps_the_last_mappings_while_the_store_fails() -> None:
    class FailingStore(InMemoryMappingStore):
        failures = 0

        async def all(self) -> Any:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("mongodb down")
            return await super().all()

    async def scenario() -> None:
        store = FailingStore()
        managed = ManagedMappings(store)
        await store.put(
            network_id="net-1",
            integration_id="kobo-lyon",
            form_id="f1",
            mapping=FormMapping.model_validate(NEW_KOBO_MAPPING),
            expected_revision=None,
            updated_at=datetime.now(UTC),
            updated_by="x",
        )
        store.failures = 2
        stopping = asyncio.Event()
        task = asyncio.create_task(managed.refresher(0.01)(stopping))
        async with asyncio.timeout(5):
            while not managed.forms:  # two failed rounds, then the mapping is loaded
                await asyncio.sleep(0.01)
        assert store.failures == 0
        stopping.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())


def test_mongodb_unavailable_is_503_with_retry_after(collector: Collector) -> None:
    class DownStore(InMemoryMappingStore):
        async def put(self, **_: Any) -> Any:
            raise ServerSelectionTimeoutError("mongodb:27017: timed out")

        async def get(self, **_: Any) -> Any:
            raise ServerSelectionTimeoutError("mongodb:27017: timed out")

    collector.wiring.managed.store = DownStore()

    put = collector.client.put(KOBO_FORM, json=NEW_KOBO_MAPPING, headers=admin())
    get = collector.client.get(KOBO_FORM, headers=admin())

    assert (put.status_code, get.status_code) == (503, 503)
    assert put.headers["Retry-After"]
    assert "timed out" not in put.text  # the exception type only
    assert collector.rejected("store_unavailable", "mappings") == 2
    assert post_kobo(collector, "uuid-while-down").status_code == 200  # intake goes on
