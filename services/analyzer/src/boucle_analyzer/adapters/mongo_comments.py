"""Comment records in MongoDB: what is kept of a free comment or complaint, never its text.

Single-document writes only (FerretDB v1): a record is inserted once under its network and
comment id (``_id`` = ``<network_id>|<comment_id>``), so a redelivered event keeps the
record it already has. A survey comment's id names its response as well
(``<response_id>:<comment id>``, ``domain.comment_ids``); records written before that
(``<network_id>|<question id>``: one per form and network) stay as they are and are read
like the others; new survey records never take their ids (they name the response).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from boucle_analyzer.adapters.mongo_aggregates import DUPLICATE_KEY
from boucle_analyzer.domain.ports import HAZARD_SOURCE, CommentRecord

Document = dict[str, Any]


class MongoCommentStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._db: AsyncDatabase[Document] = client[database]
        self._comments = self._db["comments"]

    async def create_indexes(self) -> None:
        await self._comments.create_index(
            [("network_id", ASCENDING), ("scope_keys", ASCENDING), ("at", ASCENDING)],
            name="scope_time",
        )

    async def keep(self, *, records: Sequence[CommentRecord]) -> None:
        if not records:
            return
        documents = [
            {
                "_id": f"{r.network_id}|{r.comment_id}",
                "comment_id": r.comment_id,
                "network_id": r.network_id,
                "scope_keys": list(r.scope_keys),
                "at": r.at,
                "source": r.source,
                "themes": list(r.themes),
                "negative": r.negative,
                "stems": list(r.stems),
                "event_id": r.event_id,
            }
            for r in records
        ]
        try:
            await self._comments.insert_many(documents, ordered=False)
        except BulkWriteError as error:  # already kept (redelivery): fine, anything else not
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise

    async def examples(
        self, *, network_id: str, scope_key: str, start: datetime, end: datetime, limit: int
    ) -> list[CommentRecord]:
        cursor = (
            self._comments.find(
                {
                    "network_id": network_id,
                    "scope_keys": scope_key,
                    "at": {"$gte": start, "$lt": end},
                    "negative": True,
                }
            )
            .sort([("at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_record(document) async for document in cursor]

    async def stem_counts(
        self, *, network_id: str, scope_key: str, start: datetime, end: datetime
    ) -> tuple[Counter[str], int]:
        counts: Counter[str] = Counter()
        comments = 0
        cursor = self._comments.find(
            {
                "network_id": network_id,
                "scope_keys": scope_key,
                "at": {"$gte": start, "$lt": end},
                "source": {"$ne": HAZARD_SOURCE},  # not a comment
            },
            {"stems": 1},
        )
        async for document in cursor:
            comments += 1
            counts.update(set(document.get("stems", [])))
        return counts, comments


def _record(document: Document) -> CommentRecord:
    return CommentRecord(
        comment_id=document["comment_id"],
        network_id=document["network_id"],
        scope_keys=tuple(document["scope_keys"]),
        at=document["at"],
        source=document["source"],
        themes=tuple(document["themes"]),
        negative=bool(document["negative"]),
        stems=tuple(document["stems"]),
        event_id=document["event_id"],
    )
