"""Comments (minimal records, never the text) and degradation episodes, in MongoDB.

Single-document writes only (FerretDB v1): a comment is inserted once under its network
and id; an episode is upserted whole under its deterministic degradation id, so a re-run
of the detection over the same weeks rewrites the same documents.
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
from boucle_analyzer.domain.detection import Episode
from boucle_analyzer.domain.ports import CommentRecord
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import Metric, Observation

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
            {"network_id": network_id, "scope_keys": scope_key, "at": {"$gte": start, "$lt": end}},
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


class MongoEpisodeStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._db: AsyncDatabase[Document] = client[database]
        self._episodes = self._db["episodes"]
        self._cursors = self._db["detection_cursors"]

    async def create_indexes(self) -> None:
        await self._episodes.create_index(
            [("network_id", ASCENDING), ("open", ASCENDING)], name="network_open"
        )

    async def open_episodes(self, *, network_id: str) -> dict[str, Episode]:
        cursor = self._episodes.find({"network_id": network_id, "open": True})
        episodes = [_episode(document) async for document in cursor]
        return {episode.key: episode for episode in episodes}

    async def save(self, *, network_id: str, episodes: Sequence[Episode]) -> None:
        for episode in episodes:
            await self._episodes.replace_one(
                {"_id": episode.degradation_id},
                {"network_id": network_id, "open": episode.open, **_document(episode)},
                upsert=True,
            )

    async def evaluated_through(self, *, network_id: str) -> datetime | None:
        document = await self._cursors.find_one({"_id": network_id})
        return None if document is None else document["week"]

    async def set_evaluated_through(self, *, network_id: str, week: datetime) -> None:
        await self._cursors.replace_one({"_id": network_id}, {"week": week}, upsert=True)

    async def episodes(self, *, network_id: str, open_only: bool) -> list[Episode]:
        where: Document = {"network_id": network_id}
        if open_only:
            where["open"] = True
        cursor = self._episodes.find(where).sort([("opened_week", ASCENDING), ("_id", ASCENDING)])
        return [_episode(document) async for document in cursor]

    async def count_open(self) -> int:
        return await self._episodes.count_documents({"open": True})


def _document(episode: Episode) -> Document:
    return {
        "key": episode.key,
        "scope": episode.scope.model_dump(mode="json", exclude_none=True),
        "metric": episode.metric.value,
        "dimension": episode.dimension,
        "opened_week": episode.opened_week,
        "baseline": episode.baseline.model_dump(mode="json"),
        "current": episode.current.model_dump(mode="json"),
        "calm_weeks": episode.calm_weeks,
        "resolved_week": episode.resolved_week,
    }


def _episode(document: Document) -> Episode:
    return Episode(
        degradation_id=document["_id"],
        key=document["key"],
        scope=Scope.model_validate(document["scope"]),
        metric=Metric(document["metric"]),
        dimension=document.get("dimension"),
        opened_week=document["opened_week"],
        baseline=Observation.model_validate(document["baseline"]),
        current=Observation.model_validate(document["current"]),
        calm_weeks=int(document["calm_weeks"]),
        resolved_week=document.get("resolved_week"),
    )
