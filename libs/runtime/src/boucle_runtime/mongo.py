"""MongoDB through PyMongo's async API (Motor is deprecated by MongoDB)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from boucle_runtime.settings import MongoSettings

Document = dict[str, Any]


def mongo_client(settings: MongoSettings, *, app_name: str) -> AsyncMongoClient[Document]:
    """A client that connects lazily: building it at start-up touches no network."""
    return AsyncMongoClient(
        settings.mongodb_uri,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        connect=False,
    )


def mongo_ping(client: AsyncMongoClient[Document]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        await client.admin.command("ping")
        return True

    return check


async def is_ferretdb(client: AsyncMongoClient[Document]) -> bool:
    """FerretDB answers ``buildInfo`` with ``ferretdb…`` fields; MongoDB does not."""
    info = await client.admin.command("buildInfo")
    return any(name.startswith("ferretdb") for name in info)


async def keep_latest_revision(
    collection: AsyncCollection[Document],
    *,
    key: str,
    revision: int,
    document: Document,
    atomic: bool = True,
) -> bool:
    """Upsert ``document`` only if ``revision`` is newer than the stored one.

    Atomic by default: a stale or repeated delivery finds no match, its upsert collides on
    ``_id``, and nothing goes backwards. ``atomic=False`` is for FerretDB v1, where a filter
    other than ``_id`` alone makes every write scan the collection in Go: the revision is
    read by ``_id`` and the write filters on ``_id``. Safe when one consumer at a time
    writes a key (keys follow the partition key), which Kafka's group assignment gives.
    """
    if not atomic:
        stored = await collection.find_one({"_id": key}, {"revision": 1})
        if stored is not None and int(stored.get("revision", -1)) >= revision:
            return False
        await collection.update_one(
            {"_id": key}, {"$set": {**document, "revision": revision}}, upsert=True
        )
        return True
    try:
        await collection.update_one(
            {"_id": key, "revision": {"$lt": revision}},
            {"$set": {**document, "revision": revision}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return True


async def insert_once(collection: AsyncCollection[Document], document: Document) -> bool:
    """Insert unless a document with the same ``_id`` exists; True when inserted."""
    try:
        await collection.insert_one(document)
    except DuplicateKeyError:
        return False
    return True
