"""The collector's MongoDB state on the real server (FerretDB locally) and the LimeSurvey
pull end to end: a real JSON-RPC server, real MongoDB cursors, real Kafka.

Isolation: a database and a topic prefix of the test; the database is dropped at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo import AsyncMongoClient, MongoClient

from boucle_collector.adapters.mapping_cache import ManagedMappings
from boucle_collector.adapters.mongo import MongoCursorStore, MongoLeaseStore, MongoMappingStore
from boucle_collector.app import create_app
from boucle_collector.domain.integrations import FormMapping
from boucle_collector.domain.mapping_revisions import StaleRevisionError
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_runtime.mongo import Document
from tests.integration.test_collector_kafka import _records, _schema_validator, _settings
from tests.unit.collector.limesurvey_server import (
    PASSWORD,
    LimeSurveyState,
    limesurvey_integration,
    limesurvey_server,
    response_row,
)
from tests.unit.collector.test_collector_mappings_api import ADMIN_KEY, ADMINS

pytestmark = pytest.mark.integration

SURVEY = 654321
MAPPING = FormMapping.model_validate(
    {
        "site_id": "site-a",
        "survey_kind": "hot",
        "respondent_role": "learner",
        # dots and dollars in question ids: stored as JSON text, FerretDB never sees them as keys
        "questions": {"grp.q1": {"answer_type": "scale"}, "$q2": {"role": "comment"}},
    }
)


@pytest.fixture
async def mongo(mongodb_uri: str, isolation: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        yield client
    finally:
        await client.drop_database(f"collector_{isolation}")
        await client.close()


async def put(
    store: MongoMappingStore, form_id: str, expected: int | None, mapping: FormMapping = MAPPING
) -> int:
    stored = await store.put(
        network_id="net-1",
        integration_id="lime-horizon",
        form_id=form_id,
        mapping=mapping,
        expected_revision=expected,
        updated_at=datetime.now(UTC),
        updated_by="quality-admin/admin-1",
    )
    return stored.revision


async def test_mapping_writes_are_conditional_on_the_revision(
    mongo: AsyncMongoClient[Document], isolation: str
) -> None:
    store = MongoMappingStore(mongo, f"collector_{isolation}")

    assert await put(store, "f1", None) == 1
    with pytest.raises(StaleRevisionError) as exists:
        await put(store, "f1", None)
    assert exists.value.current == 1
    assert await put(store, "f1", 1) == 2
    with pytest.raises(StaleRevisionError) as stale:
        await put(store, "f1", 1)
    assert (stale.value.expected, stale.value.current) == (1, 2)
    with pytest.raises(StaleRevisionError):
        await put(store, "never-created", 3)

    stored = await store.get(network_id="net-1", integration_id="lime-horizon", form_id="f1")
    assert stored is not None
    assert stored.mapping == MAPPING
    assert (stored.revision, stored.updated_by) == (2, "quality-admin/admin-1")
    with pytest.raises(StaleRevisionError):
        await store.delete(
            network_id="net-1", integration_id="lime-horizon", form_id="f1", expected_revision=1
        )
    assert await store.delete(
        network_id="net-1", integration_id="lime-horizon", form_id="f1", expected_revision=2
    )
    assert not await store.delete(
        network_id="net-1", integration_id="lime-horizon", form_id="f1", expected_revision=None
    )
    assert [s.form_id for s in await store.all()] == []


async def test_concurrent_creations_of_one_mapping_give_one_winner(
    mongo: AsyncMongoClient[Document], isolation: str
) -> None:
    store = MongoMappingStore(mongo, f"collector_{isolation}")

    results = await asyncio.gather(
        *(put(store, "f1", None) for _ in range(5)), return_exceptions=True
    )

    assert results.count(1) == 1
    assert sum(isinstance(r, StaleRevisionError) for r in results) == 4


async def test_another_replica_sees_a_write_at_its_next_refresh(
    mongo: AsyncMongoClient[Document], isolation: str
) -> None:
    database = f"collector_{isolation}"
    writer, reader = (
        ManagedMappings(MongoMappingStore(mongo, database)),
        ManagedMappings(MongoMappingStore(mongo, database)),
    )
    await reader.refresh()
    writer.remember(
        await writer.store.put(
            network_id="net-1",
            integration_id="lime-horizon",
            form_id="f1",
            mapping=MAPPING,
            expected_revision=None,
            updated_at=datetime.now(UTC),
            updated_by="x",
        )
    )
    assert ("net-1", "lime-horizon") in writer.forms
    assert reader.forms == {}

    await reader.refresh()

    assert reader.forms == {("net-1", "lime-horizon"): {"f1": MAPPING}}


async def test_the_cursor_never_goes_backwards(
    mongo: AsyncMongoClient[Document], isolation: str
) -> None:
    cursors = MongoCursorStore(mongo, f"collector_{isolation}")
    where = {"integration_id": "lime-horizon", "survey_id": "1"}

    assert await cursors.last_id(**where) == 0
    await cursors.advance(**where, response_id=5)
    await cursors.advance(**where, response_id=3)
    await cursors.advance(**where, response_id=5)
    assert await cursors.last_id(**where) == 5
    await cursors.advance(**where, response_id=8)
    assert await cursors.last_id(**where) == 8
    assert await cursors.last_id(integration_id="lime-horizon", survey_id="2") == 0


async def test_one_holder_at_a_time_until_the_lease_expires(
    mongo: AsyncMongoClient[Document], isolation: str
) -> None:
    leases = MongoLeaseStore(mongo, f"collector_{isolation}")
    now = datetime.now(UTC)

    async def take(holder: str, at: datetime) -> bool:
        return await leases.acquire(name="limesurvey-pull", holder=holder, seconds=60, now=at)

    first = await asyncio.gather(*(take(h, now) for h in ("a", "b", "c")))
    assert sum(first) == 1
    winner = ("a", "b", "c")[first.index(True)]
    loser = "b" if winner == "a" else "a"
    assert await take(winner, now + timedelta(seconds=30))  # renewed by its holder
    assert not await take(loser, now + timedelta(seconds=60))  # renewed until +90 s
    assert await take(loser, now + timedelta(seconds=91))  # expired: taken over
    assert not await take(winner, now + timedelta(seconds=92))


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def lime() -> Iterator[LimeSurveyState]:
    with limesurvey_server(LimeSurveyState(survey_id=SURVEY)) as state:
        yield state


def test_limesurvey_responses_are_pulled_once_each_with_the_api_mapping(
    kafka_bootstrap: str,
    mongodb_uri: str,
    isolation: str,
    tmp_path: Path,
    lime: LimeSurveyState,
) -> None:
    (tmp_path / "pw").write_text(PASSWORD, encoding="utf-8")
    config = {
        "integrations": [limesurvey_integration(lime.url, str(tmp_path / "pw"), SURVEY), ADMINS[0]]
    }
    path = tmp_path / "integrations.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    settings = _settings(
        kafka_bootstrap,
        isolation,
        path,
        mongodb_uri=mongodb_uri,
        limesurvey_poll_seconds=0.2,
        mappings_refresh_seconds=0.2,
    )
    database = MongoClient[dict[str, Any]](mongodb_uri)[settings.mongodb_database]

    def cursor() -> int:
        document = database["limesurvey_cursors"].find_one({"_id": f"lime-horizon/{SURVEY}"})
        return 0 if document is None else int(document["revision"])

    lime.rows = [response_row(n) for n in (1, 2, 3)]
    try:
        with TestClient(create_app(settings)) as collector:
            _wait_for(lambda: cursor() == 3, "the first three responses")
            ready = collector.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert "mongodb" in ready.text

            form = f"/v1/networks/net-1/integrations/lime-horizon/mappings/{SURVEY}"
            current = collector.get(form, headers={"X-Api-Key": ADMIN_KEY}).json()["mapping"]
            current["questions"]["G01Q01"]["dimension"] = "content"
            changed = collector.put(form, json=current, headers={"X-Api-Key": ADMIN_KEY})
            assert changed.status_code == 201, changed.text

            lime.ignore_from = True  # the server answers every response again, plus new ones
            lime.rows += [response_row(4), response_row(4)]
            _wait_for(lambda: cursor() == 4, "the fourth response")
            time.sleep(0.5)  # a few more rounds: none may publish anything
    finally:
        database.client.drop_database(settings.mongodb_database)
        database.client.close()

    published = _records(kafka_bootstrap, f"{isolation}.{FEEDBACK_TOPIC}")
    ids = [d["data"]["response_id"] for d in published]
    assert sorted(ids) == [f"limesurvey:{SURVEY}:{n}" for n in (1, 2, 3, 4)]
    for document in published:
        errors = [e.message for e in _schema_validator(document["type"]).iter_errors(document)]
        assert errors == [], errors
    dimensions = {
        d["data"]["response_id"][-1]: d["data"]["answers"][0]["dimension"] for d in published
    }
    assert dimensions == {"1": "overall", "2": "overall", "3": "overall", "4": "content"}
