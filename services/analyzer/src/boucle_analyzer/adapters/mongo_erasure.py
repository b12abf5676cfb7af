"""The analyzer's subject index and comment deletion in MongoDB (FerretDB v1 compatible).

``comment_subjects``: one document per (network, subject, event), ``_id`` joining them, so a
redelivered event writes nothing new; the pseudonym stays only until the subject's erasure
or the records' retention. Deletions on ``comments`` go by ``_id`` (``<network>|<comment>``,
see ``mongo_comments``) or by source and date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from boucle_analyzer.erasure import SubjectEntry
from boucle_runtime.mongo import insert_once

Document = dict[str, Any]
SUBJECTS = "comment_subjects"
COMMENTS = "comments"


class MongoSubjectIndex:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._subjects = client[database][SUBJECTS]

    async def create_indexes(self) -> None:
        await self._subjects.create_index(
            [("network_id", ASCENDING), ("subject", ASCENDING)], name="subject"
        )
        await self._subjects.create_index([("source", ASCENDING), ("at", ASCENDING)], name="age")

    async def remember(self, entry: SubjectEntry) -> None:
        await insert_once(
            self._subjects,
            {
                "_id": f"{entry.network_id}|{entry.subject}|{entry.event_id}",
                "network_id": entry.network_id,
                "subject": entry.subject,
                "comment_ids": list(entry.comment_ids),
                "at": entry.at,
                "source": entry.source,
            },
        )

    async def comment_ids(self, *, network_id: str, subject: str) -> list[str]:
        cursor = self._subjects.find(
            {"network_id": network_id, "subject": subject}, {"comment_ids": 1}
        )
        return [cid async for doc in cursor for cid in doc.get("comment_ids", [])]

    async def forget(self, *, network_id: str, subject: str) -> int:
        result = await self._subjects.delete_many({"network_id": network_id, "subject": subject})
        return result.deleted_count

    async def forget_before(self, *, source: str, before: datetime) -> int:
        result = await self._subjects.delete_many({"source": source, "at": {"$lt": before}})
        return result.deleted_count


class MongoCommentEraser:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._comments = client[database][COMMENTS]

    async def erase(self, *, network_id: str, comment_ids: Sequence[str]) -> int:
        if not comment_ids:
            return 0
        keys = [f"{network_id}|{comment_id}" for comment_id in comment_ids]
        result = await self._comments.delete_many({"_id": {"$in": keys}})
        return result.deleted_count

    async def erase_before(self, *, source: str, before: datetime) -> int:
        result = await self._comments.delete_many({"source": source, "at": {"$lt": before}})
        return result.deleted_count
