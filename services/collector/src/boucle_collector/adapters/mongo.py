"""The collector's MongoDB state (FerretDB v1 compatible): form mappings managed through the
API, the cursors of the LimeSurvey pull and the lease that lets one replica pull at a time.

One document per (network, integration, form), ``_id`` = ``network/integration/form``; the
mapping is stored as its JSON text (question ids may hold dots, which FerretDB v1 refuses
in field names). Every write is a single-document operation conditioned on the revision
read: an insert for a creation (a concurrent creation collides on ``_id``), an
``update_one({_id, revision})`` for a replacement. No transaction needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from boucle_collector.domain.integrations import FormMapping
from boucle_collector.domain.mapping_revisions import StaleRevisionError, StoredMapping
from boucle_runtime.mongo import Document, keep_latest_revision

COLLECTION = "form_mappings"
CURSORS = "limesurvey_cursors"
LEASES = "leases"


def _id(network_id: str, integration_id: str, form_id: str) -> str:
    return f"{network_id}/{integration_id}/{form_id}"


def _stored(document: Document) -> StoredMapping:
    return StoredMapping(
        network_id=document["network_id"],
        integration_id=document["integration_id"],
        form_id=document["form_id"],
        mapping=FormMapping.model_validate_json(document["mapping_json"]),
        revision=int(document["revision"]),
        updated_at=document["updated_at"],
        updated_by=document["updated_by"],
    )


class MongoMappingStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._collection = client[database][COLLECTION]

    async def all(self) -> Sequence[StoredMapping]:
        return [_stored(document) async for document in self._collection.find({})]

    async def get(
        self, *, network_id: str, integration_id: str, form_id: str
    ) -> StoredMapping | None:
        document = await self._collection.find_one(
            {"_id": _id(network_id, integration_id, form_id)}
        )
        return None if document is None else _stored(document)

    async def _revision(self, key: str) -> int | None:
        document = await self._collection.find_one({"_id": key}, {"revision": 1})
        return None if document is None else int(document["revision"])

    async def put(
        self,
        *,
        network_id: str,
        integration_id: str,
        form_id: str,
        mapping: FormMapping,
        expected_revision: int | None,
        updated_at: datetime,
        updated_by: str,
    ) -> StoredMapping:
        key = _id(network_id, integration_id, form_id)
        revision = (expected_revision or 0) + 1
        fields: dict[str, Any] = {
            "network_id": network_id,
            "integration_id": integration_id,
            "form_id": form_id,
            "mapping_json": mapping.model_dump_json(),
            "revision": revision,
            "updated_at": updated_at,
            "updated_by": updated_by,
        }
        if expected_revision is None:
            try:
                await self._collection.insert_one({"_id": key, **fields})
            except DuplicateKeyError:
                raise StaleRevisionError(expected=None, current=await self._revision(key)) from None
        else:
            result = await self._collection.update_one(
                {"_id": key, "revision": expected_revision}, {"$set": fields}
            )
            if result.matched_count == 0:
                raise StaleRevisionError(
                    expected=expected_revision, current=await self._revision(key)
                )
        return StoredMapping(
            network_id=network_id,
            integration_id=integration_id,
            form_id=form_id,
            mapping=mapping,
            revision=revision,
            updated_at=updated_at,
            updated_by=updated_by,
        )

    async def delete(
        self, *, network_id: str, integration_id: str, form_id: str, expected_revision: int | None
    ) -> bool:
        key = _id(network_id, integration_id, form_id)
        query: Document = {"_id": key}
        if expected_revision is not None:
            query["revision"] = expected_revision
        result = await self._collection.delete_one(query)
        if result.deleted_count:
            return True
        current = await self._revision(key)
        if current is None:
            return False
        raise StaleRevisionError(expected=expected_revision, current=current)


class MongoCursorStore:
    """Last exported response id per (integration, survey): ``keep_latest_revision`` keeps it
    monotonic in one single-document write (a stale advance collides and changes nothing)."""

    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._collection = client[database][CURSORS]

    async def last_id(self, *, integration_id: str, survey_id: str) -> int:
        document = await self._collection.find_one({"_id": f"{integration_id}/{survey_id}"})
        return 0 if document is None else int(document["revision"])

    async def advance(self, *, integration_id: str, survey_id: str, response_id: int) -> None:
        await keep_latest_revision(
            self._collection,
            key=f"{integration_id}/{survey_id}",
            revision=response_id,
            document={"integration_id": integration_id, "survey_id": survey_id},
        )


class MongoLeaseStore:
    """One document per lease; taking or renewing it is one conditional upsert: when another
    holder's lease has not expired, the filter matches nothing and the upsert collides on
    ``_id`` (DuplicateKeyError), so two processes never both get it."""

    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._collection = client[database][LEASES]

    async def acquire(self, *, name: str, holder: str, seconds: float, now: datetime) -> bool:
        try:
            await self._collection.update_one(
                {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
                {"$set": {"holder": holder, "expires_at": now + timedelta(seconds=seconds)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True
