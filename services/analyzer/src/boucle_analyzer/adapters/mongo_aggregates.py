"""Aggregates in MongoDB: single-document atomic, idempotent, and FerretDB-compatible.

Why this shape: FerretDB v1 (and a sharded MongoDB without transactions) only guarantees
single-document atomicity, so each aggregate document carries, per topic partition, the
offset of the last message applied to it (``wm``). An update only matches while that
watermark is below the message's offset, so a redelivered message never counts twice, and
replaying the topics from the start rebuilds identical aggregates. Re-published events
(same id, new offset) are caught by the ``received_events`` ledger.

FerretDB v1 caveats, measured, and what this store does about them:

- An update there is a read-modify-write that is not isolated from a concurrent update of
  the same document (the snapshot publisher racing the consumer's ``$inc`` lost
  increments). So this store serialises its own writes with a lock, and on FerretDB only
  one analyzer instance may write a database.
- Only a filter that is exactly ``{"_id": …}`` reaches SQLite; any other filter is applied
  in Go to every document of the collection (with the watermark condition in the filter, an
  update cost 50 ms at 500 aggregates and grew with the collection). So on FerretDB
  (``guarded=False``, detected in :meth:`prepare`) the watermarks are read by ``_id`` under
  the lock and the updates filter on ``_id`` alone; MongoDB keeps the single atomic
  conditional update, which several instances need.
- Likewise a ``{"dirty": true}`` query scanned every aggregate. Changed aggregates are
  listed instead in a small ``aggregates_pending`` collection, written *before* the
  aggregate, so a crash between the two writes re-publishes a snapshot (harmless: its id
  derives from the revision) rather than losing one.

Each granularity has its own collection (``aggregates`` for months, which other tools
read, ``aggregates_week``, ``aggregates_day``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import Int64
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from boucle_analyzer.domain.aggregation import AggregateDelta
from boucle_analyzer.domain.detection import ScopeSeries
from boucle_analyzer.domain.figures import flatten, snapshot_from
from boucle_analyzer.domain.ports import FigureQuery, Position, Receipt
from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope
from boucle_runtime.mongo import is_ferretdb

Document = dict[str, Any]
DUPLICATE_KEY = 11000
WATERMARK_CACHE = 100_000
COLLECTIONS = {
    Granularity.MONTH: "aggregates",
    Granularity.WEEK: "aggregates_week",
    Granularity.DAY: "aggregates_day",
}


class MongoAggregateStore:
    def __init__(
        self, client: AsyncMongoClient[Document], database: str, *, guarded: bool = True
    ) -> None:
        self._db: AsyncDatabase[Document] = client[database]
        self._collections = {g: self._db[name] for g, name in COLLECTIONS.items()}
        self._received = self._db["received_events"]
        self._pending = self._db["aggregates_pending"]
        self._writes = asyncio.Lock()  # see the FerretDB caveats above
        self._guarded = guarded
        self._listed: dict[str, int] = {}  # pending key -> change count when it was listed
        # Watermarks this (only) writer set, by (aggregate, stream): unguarded mode only.
        self._marks: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._unpublished: set[str] = set()  # listed as pending by this writer: unguarded mode

    @property
    def guarded(self) -> bool:
        """True when each update carries its watermark condition (atomic; MongoDB)."""
        return self._guarded

    async def prepare(self) -> None:
        """Indexes, and whether updates may carry their watermark condition (not on FerretDB)."""
        self._guarded = not await is_ferretdb(self._db.client)
        await self.create_indexes()

    async def create_indexes(self) -> None:
        for collection in self._collections.values():
            await collection.create_index(
                [("scope.network_id", ASCENDING), ("period_start", ASCENDING)],
                name="network_period",
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
        async with self._writes:
            await self._list_pending([delta])
            return await self._write(delta.granularity, [delta], position, event_id) == 1

    async def apply_all(
        self,
        *,
        deltas: Sequence[AggregateDelta],
        position: Position,
        event_id: str,
        redelivery: bool = False,
    ) -> None:
        """Add each delta unless already applied: the aggregates are listed as pending, then
        one ``update`` command per granularity carries their upserts.

        On FerretDB (unguarded) the watermarks are checked before the command (see
        :meth:`_apply_checked`). Otherwise each statement carries its own condition, and an
        upsert whose filter fails because the watermark is past this offset collides on
        ``_id`` (error 11000): applied before. The same error arises when another consumer
        created the document between our filter and our insert, so collided deltas are
        retried once without upsert, which tells the two apart. PyMongo's ``bulk_write`` is
        not used: it fails on FerretDB's reply to a batch with write errors (no
        ``nModified``), and FerretDB may stop an unordered batch at its first error, so the
        deltas after it are sent again (harmless: the watermark makes every update
        idempotent). FerretDB also reports only the first error of a batch, so how many
        deltas were new is not known.

        A redelivery most likely finds every delta applied: in guarded mode the watermarks
        are read first (one query) and only the deltas still missing are sent, instead of a
        batch that would collide statement after statement.
        """
        batches = {g: [d for d in deltas if d.granularity is g] for g in Granularity}
        if redelivery and self._guarded:
            batches = {g: await self._missing(g, batch, position) for g, batch in batches.items()}
        async with self._writes:
            await self._list_pending([d for batch in batches.values() for d in batch])
            for granularity, batch in batches.items():
                await self._write(granularity, batch, position, event_id)

    async def _missing(
        self, granularity: Granularity, deltas: Sequence[AggregateDelta], position: Position
    ) -> list[AggregateDelta]:
        if not deltas:
            return []
        watermark = f"wm.{position.stream}"
        seen = {
            document["_id"]: document.get("wm", {}).get(position.stream, -1)
            async for document in self._collections[granularity].find(
                {"_id": {"$in": [d.key for d in deltas]}}, {watermark: 1}
            )
        }
        return [d for d in deltas if seen.get(d.key, -1) < position.offset]

    async def _write(
        self,
        granularity: Granularity,
        deltas: Sequence[AggregateDelta],
        position: Position,
        event_id: str,
    ) -> int:
        """How many deltas were new; exact for one delta, a lower bound otherwise."""
        if not deltas:
            return 0
        name = self._collections[granularity].name
        if self._guarded:
            return await self._apply_guarded(name, deltas, position, event_id)
        return await self._apply_checked(name, deltas, position, event_id)

    async def _list_pending(self, deltas: Sequence[AggregateDelta]) -> None:
        if not self._guarded:  # the only writer knows what it listed and has not unlisted
            deltas = [d for d in deltas if d.key not in self._unpublished]
        if not deltas:
            return
        await self._db.command(
            {
                "update": self._pending.name,
                "updates": [
                    {
                        "q": {"_id": d.key},
                        "u": {"$inc": {"changes": Int64(1)}},
                        "upsert": True,
                    }
                    for d in deltas
                ],
                "ordered": True,
            }
        )
        if not self._guarded:
            self._unpublished.update(d.key for d in deltas)

    async def _apply_checked(
        self, collection: str, deltas: Sequence[AggregateDelta], position: Position, event_id: str
    ) -> int:
        """Watermarks read by ``_id`` (or remembered), then ``_id``-only updates: safe under
        the write lock of the only writer, which is what FerretDB allows anyway."""
        fresh = [
            delta
            for delta in deltas
            if await self._watermark(collection, delta.key, position.stream) < position.offset
        ]
        if not fresh:
            return 0
        statements = [_update(d, position, event_id, upsert=True, guarded=False) for d in fresh]
        try:
            await self._db.command({"update": collection, "updates": statements, "ordered": True})
        except Exception:
            for delta in fresh:  # partly applied, perhaps: read them again next time
                self._marks.pop((delta.key, position.stream), None)
            raise
        for delta in fresh:
            self._remember((delta.key, position.stream), position.offset)
        return len(fresh)

    async def _watermark(self, collection: str, key: str, stream: str) -> int:
        known = self._marks.get((key, stream))
        if known is not None:
            self._marks.move_to_end((key, stream))
            return known
        found = await self._db[collection].find_one({"_id": key}, {f"wm.{stream}": 1})
        offset = -1 if found is None else int(found.get("wm", {}).get(stream, -1))
        self._remember((key, stream), offset)
        return offset

    def _remember(self, mark: tuple[str, str], offset: int) -> None:
        self._marks[mark] = offset
        self._marks.move_to_end(mark)
        if len(self._marks) > WATERMARK_CACHE:
            self._marks.popitem(last=False)

    async def _apply_guarded(
        self, collection: str, deltas: Sequence[AggregateDelta], position: Position, event_id: str
    ) -> int:
        pending = [_update(delta, position, event_id, upsert=True) for delta in deltas]
        applied = 0
        while pending:
            reply = await self._db.command(
                {"update": collection, "updates": pending, "ordered": False}
            )
            errors = reply.get("writeErrors", [])
            if not errors:
                return applied + len(pending)
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise OperationFailure(str(errors[0].get("errmsg")), errors[0].get("code"), reply)
            failed = {int(error["index"]) for error in errors}
            first = min(failed)
            applied += first
            retried = [{**pending[index], "upsert": False} for index in sorted(failed)]
            again = await self._db.command(
                {"update": collection, "updates": retried, "ordered": False}
            )
            applied += int(again.get("n", 0))
            pending = [
                op for index, op in enumerate(pending) if index > first and index not in failed
            ]
        return applied

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]:
        found: list[ScopeMetricsUpdated] = []
        async for marker in self._pending.find({}).limit(limit):
            key = marker["_id"]
            document = await self.aggregate(key)
            if document is None:  # listed, then the write failed: nothing to publish yet
                continue
            self._listed[key] = int(marker["changes"])
            found.append(_snapshot(document))
        return found

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None:
        """Unlist the aggregate only if it did not change again since it was listed.

        Several writers (MongoDB) compare the marker's change count; the only writer
        (FerretDB), which skips re-listing listed aggregates, compares the revision under
        its write lock instead."""
        changes = self._listed.pop(snapshot.key, None)
        async with self._writes:
            if self._guarded:
                if changes is not None:
                    await self._pending.delete_one({"_id": snapshot.key, "changes": changes})
                return
            current = await self._collections[snapshot.granularity].find_one(
                {"_id": snapshot.key}, {"revision": 1}
            )
            if current is not None and int(current["revision"]) == snapshot.revision:
                await self._pending.delete_one({"_id": snapshot.key})
                self._unpublished.discard(snapshot.key)

    async def aggregate(self, key: str) -> Document | None:
        granularity = Granularity(key.split("|")[1])
        return await self._collections[granularity].find_one({"_id": key})

    async def figures(self, *, query: FigureQuery) -> list[ScopeMetricsUpdated]:
        where: Document = {"scope.network_id": query.network_id}
        period: Document = {}
        if query.start is not None:
            period["$gte"] = query.start
        if query.end is not None:
            period["$lt"] = query.end
        if period:
            where["period_start"] = period
        if query.level is not None:
            where["scope.level"] = query.level.value
        for name in ("site_id", "programme_id", "trainer_id"):
            value = getattr(query, name)
            if value is not None:
                where[f"scope.{name}"] = value
        if query.sites is not None:  # besides any site_id asked for, hence "$and"
            in_sites: Document = {"scope.site_id": {"$in": sorted(query.sites)}}
            where["$and"] = [
                {"$or": [in_sites, {"scope.site_id": {"$exists": False}}]}
                if query.network_wide
                else in_sites
            ]
        cursor = (
            self._collections[query.granularity]
            .find(where)
            .sort([("period_start", ASCENDING), ("_id", ASCENDING)])
            .limit(query.limit)
        )
        return [_snapshot(document) async for document in cursor]

    async def networks(self) -> list[str]:
        cursor = self._collections[Granularity.MONTH].find(
            {"scope.level": "network"}, {"scope.network_id": 1}
        )
        return sorted({document["scope"]["network_id"] async for document in cursor})

    async def weekly_series(self, *, network_id: str, since: datetime) -> list[ScopeSeries]:
        cursor = self._collections[Granularity.WEEK].find(
            {"scope.network_id": network_id, "period_start": {"$gte": since}}
        )
        scopes: dict[str, Scope] = {}
        weeks: dict[str, dict[datetime, dict[str, int]]] = {}
        async for document in cursor:
            key = document["scope_key"]
            scopes.setdefault(key, Scope.model_validate(document["scope"]))
            weeks.setdefault(key, {})[document["period_start"]] = flatten(document)
        return [ScopeSeries(scopes[key], weeks[key]) for key in sorted(scopes)]


def _update(
    delta: AggregateDelta, position: Position, event_id: str, *, upsert: bool, guarded: bool = True
) -> Document:
    """One statement of an ``update`` command: add the delta (unless the watermark is past,
    when ``guarded``; otherwise the caller has checked it)."""
    watermark = f"wm.{position.stream}"
    where: Document = {"_id": delta.key}
    if guarded:
        where["$or"] = [{watermark: {"$lt": position.offset}}, {watermark: {"$exists": False}}]
    return {
        "q": where,
        "u": {
            # Int64 always: FerretDB wraps an int32 counter on overflow instead of promoting it
            # to a long as MongoDB does, and squared ratings in millionths pass 2**31 fast.
            "$inc": {**{path: Int64(n) for path, n in delta.increments().items()}, "revision": 1},
            "$set": {watermark: position.offset, "last_event_id": event_id},
            "$setOnInsert": {
                "scope": delta.scope.model_dump(mode="json", exclude_none=True),
                "scope_key": delta.scope.key(),
                "granularity": delta.granularity.value,
                "period_start": delta.period.start,
                "period_end": delta.period.end,
            },
        },
        "upsert": upsert,
    }


def _snapshot(document: Document) -> ScopeMetricsUpdated:
    start: datetime = document["period_start"]
    end: datetime = document["period_end"]
    return snapshot_from(
        scope=Scope.model_validate(document["scope"]),
        granularity=Granularity(document["granularity"]),
        period=Period(start=start, end=end),
        counts=flatten(document),
        revision=int(document["revision"]),
        last_event_id=document["last_event_id"],
    )
