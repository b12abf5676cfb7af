"""``keep_latest_revision`` in both forms, against the real wire-protocol server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from boucle_runtime.mongo import is_ferretdb, keep_latest_revision

pytestmark = pytest.mark.integration


@pytest.fixture
async def collection(
    mongodb_uri: str, isolation: str
) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    yield client[f"runtime_{isolation}"]["latest"]
    await client.drop_database(f"runtime_{isolation}")
    await client.close()


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "read-then-write"])
async def test_only_a_newer_revision_replaces_the_stored_one(
    collection: AsyncCollection[dict[str, Any]], atomic: bool
) -> None:
    async def keep(revision: int, value: str) -> bool:
        return await keep_latest_revision(
            collection, key="k", revision=revision, document={"value": value}, atomic=atomic
        )

    assert await keep(2, "two")
    assert not await keep(2, "two again")  # repeated delivery
    assert not await keep(1, "one")  # late, older delivery
    assert await keep(5, "five")
    stored = await collection.find_one({"_id": "k"})
    assert stored is not None
    assert (stored["revision"], stored["value"]) == (5, "five")


async def test_the_engine_is_recognised(mongodb_uri: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    try:
        info = await client.admin.command("buildInfo")
        assert await is_ferretdb(client) is ("ferretdbVersion" in info or "ferretdb" in info)
    finally:
        await client.close()
