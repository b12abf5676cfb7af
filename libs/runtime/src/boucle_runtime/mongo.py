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


async def keep_latest_revision(
    collection: AsyncCollection[Document], *, key: str, revision: int, document: Document
) -> bool:
    """Upsert ``document`` only if ``revision`` is newer than the stored one.

    Single-document and atomic (FerretDB-compatible): a stale or repeated delivery finds
    no match, its upsert collides on ``_id``, and nothing goes backwards.
    """
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
