"""Aggregates in MongoDB: single-document atomic, idempotent, and FerretDB-compatible.

Why this shape: FerretDB v1 (and a sharded MongoDB without transactions) only guarantees
single-document atomicity, so each aggregate document carries, per topic partition, the
offset of the last message applied to it (``wm``). An update only matches while that
watermark is below the message's offset, so a redelivered message never counts twice, and
replaying the topics from the start rebuilds identical aggregates. Re-published events
(same id, new offset) are caught by the ``received_events`` ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from boucle_analyzer.domain.aggregation import AggregateDelta, DimensionDelta, figures_of
from boucle_analyzer.domain.ports import Position, Receipt
from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope

Document = dict[str, Any]


class MongoAggregateStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._db: AsyncDatabase[Document] = client[database]
        self._aggregates = self._db["aggregates"]
        self._received = self._db["received_events"]

    async def create_indexes(self) -> None:
        await self._aggregates.create_index([("dirty", ASCENDING)], name="dirty")
        await self._aggregates.create_index(
            [("scope_key", ASCENDING), ("granularity", ASCENDING), ("period_start", ASCENDING)],
            name="scope_period",
        )

    async def receive(self, *, event_id: str, position: Position) -> Receipt:
        where = {
            "topic": position.topic,
            "partition": position.partition,
            "offset": position.offset,
        }
        try:
            await self._received.insert_one({"_id": event_id, **where})
        except DuplicateKeyError:
            seen = await self._received.find_one({"_id": event_id})
            same = seen is not None and all(seen.get(k) == v for k, v in where.items())
            return Receipt.REDELIVERY if same else Receipt.DUPLICATE
        return Receipt.NEW

    async def apply(self, *, delta: AggregateDelta, position: Position, event_id: str) -> bool:
        watermark = f"wm.{position.stream}"
        increments: dict[str, float | int] = {"responses": delta.responses, "revision": 1}
        for name, dim in delta.dimensions.items():
            increments |= {
                f"dims.{name}.count": dim.count,
                f"dims.{name}.total_milli": dim.total_milli,
                f"dims.{name}.squares_micro": dim.squares_micro,
                f"dims.{name}.satisfied": dim.satisfied,
            }
        try:
            await self._aggregates.update_one(
                {
                    "_id": delta.key,
                    "$or": [{watermark: {"$lt": position.offset}}, {watermark: {"$exists": False}}],
                },
                {
                    "$inc": increments,
                    "$set": {watermark: position.offset, "dirty": True, "last_event_id": event_id},
                    "$setOnInsert": {
                        "scope": delta.scope.model_dump(mode="json", exclude_none=True),
                        "scope_key": delta.scope.key(),
                        "granularity": delta.granularity.value,
                        "period_start": delta.period.start,
                        "period_end": delta.period.end,
                    },
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists and its watermark is past this message
        return True

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]:
        cursor = self._aggregates.find({"dirty": True}).limit(limit)
        return [_snapshot(document) async for document in cursor]

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None:
        """Clear the flag only if nothing changed since the snapshot was read."""
        key = snapshot.key
        await self._aggregates.update_one(
            {"_id": key, "revision": snapshot.revision},
            {"$set": {"dirty": False, "published_revision": snapshot.revision}},
        )

    async def aggregate(self, key: str) -> Document | None:
        return await self._aggregates.find_one({"_id": key})


def _snapshot(document: Document) -> ScopeMetricsUpdated:
    start: datetime = document["period_start"]
    end: datetime = document["period_end"]
    return ScopeMetricsUpdated(
        scope=Scope.model_validate(document["scope"]),
        granularity=Granularity(document["granularity"]),
        period=Period(start=start, end=end),
        responses=int(document.get("responses", 0)),
        dimensions=tuple(
            figures_of(
                name,
                DimensionDelta(
                    count=int(figures["count"]),
                    total_milli=int(figures["total_milli"]),
                    squares_micro=int(figures["squares_micro"]),
                    satisfied=int(figures["satisfied"]),
                ),
            )
            for name, figures in sorted(document.get("dims", {}).items())
        ),
        revision=int(document["revision"]),
        last_event_id=document["last_event_id"],
    )
