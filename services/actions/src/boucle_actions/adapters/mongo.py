"""MongoDB repositories of the actions service.

Every write is one atomic single-document operation (FerretDB has no transactions): an
entity is stored flat, with its ``revision`` and an ``outbox`` of the events its changes
caused, written in the same update and removed once published. A change is a
compare-and-set on the revision, so a stale write matches nothing and is a conflict. Every
query starts from ``network_id``: no read or write ever reaches another network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from boucle_actions.domain.actions import OPEN_ACTION_STATUSES, UNFINISHED, Action
from boucle_actions.domain.cases import Case, Deadlines
from boucle_actions.domain.meetings import Meeting
from boucle_actions.domain.ports import ConflictError, Query
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts.cases.v1 import CaseStatus, ComplaintCaseOpened
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated
from boucle_contracts.registry import AnyEvent
from boucle_runtime.mongo import insert_once, is_ferretdb, keep_latest_revision

Document = dict[str, Any]
M = TypeVar("M", bound=BaseModel)
BOOKKEEPING = ("_id", "outbox", "announced")


def to_bson(value: Any) -> Any:
    """A model dump MongoDB stores as is: datetimes stay dates, calendar dates become ISO text."""
    if isinstance(value, Mapping):
        return {key: to_bson(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_bson(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def _wire(events: Sequence[AnyEvent]) -> list[str]:
    return [event.to_json_bytes().decode() for event in events]


class MongoEntities(Generic[M]):
    """One kind of entity (case, action, meeting) in its own collection."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        model: type[M],
        id_field: str,
        recorded_field: str,
        source_field: str,
        overdue: Callable[[datetime], Document],
        additive: frozenset[str] = frozenset(),
    ) -> None:
        self._collection = collection
        self._model = model
        self._id_field = id_field
        self._recorded_field = recorded_field
        self._source_field = source_field
        self._overdue = overdue
        self._additive = additive

    async def create_indexes(self) -> None:
        c = self._collection
        await c.create_index([("network_id", ASCENDING), ("site_id", ASCENDING)], name="tenant")
        await c.create_index(
            [("network_id", ASCENDING), ("status", ASCENDING), ("site_id", ASCENDING)],
            name="status",
        )
        await c.create_index(
            [("network_id", ASCENDING), (self._recorded_field, DESCENDING)], name="recorded"
        )
        await c.create_index([("network_id", ASCENDING), ("owner", ASCENDING)], name="owner")
        await c.create_index(
            [("network_id", ASCENDING), (self._source_field, ASCENDING)], name="source"
        )
        await c.create_index([("outbox.0", ASCENDING)], name="outbox", sparse=True)

    def _document(self, entity: M) -> Document:
        return to_bson(entity.model_dump())  # type: ignore[no-any-return]

    def _entity(self, document: Document) -> M:
        return self._model.model_validate(
            {k: v for k, v in document.items() if k not in BOOKKEEPING}
        )

    async def insert(
        self, entity: M, *, events: Sequence[AnyEvent] = (), extra: Document | None = None
    ) -> bool:
        """Store a new entity with its events to publish; False if it already exists."""
        document = self._document(entity)
        return await insert_once(
            self._collection,
            {
                "_id": document[self._id_field],
                **document,
                **(extra or {}),
                "outbox": _wire(events),
            },
        )

    async def get(self, *, network_id: str, entity_id: str) -> M | None:
        found = await self._collection.find_one({"_id": entity_id, "network_id": network_id})
        return None if found is None else self._entity(found)

    async def save(
        self, entity: M, *, expected_revision: int, events: Sequence[AnyEvent] = ()
    ) -> None:
        """Replace the stored state if it is still at ``expected_revision``, else conflict."""
        document = self._document(entity)
        fields = {k: v for k, v in document.items() if k not in self._additive}
        update: Document = {"$set": fields}
        if events:
            update["$push"] = {"outbox": {"$each": _wire(events)}}
        result = await self._collection.update_one(
            {
                "_id": document[self._id_field],
                "network_id": document["network_id"],
                "revision": expected_revision,
            },
            update,
        )
        if result.matched_count == 0:
            raise ConflictError(
                f"revision {expected_revision} is not the current one: reload and retry"
            )

    async def add_once(
        self,
        *,
        network_id: str,
        entity_id: str,
        field: str,
        value: str,
        events: Sequence[AnyEvent] = (),
    ) -> bool:
        """Append ``value`` to an additive list field unless there; its events go with it."""
        update: Document = {"$push": {field: value}}
        if events:
            update["$push"]["outbox"] = {"$each": _wire(events)}
        result = await self._collection.update_one(
            {"_id": entity_id, "network_id": network_id, field: {"$ne": value}}, update
        )
        return result.modified_count == 1

    def _filter(self, query: Query) -> Document:
        match: Document = {"network_id": query.network_id}
        if query.site_ids is not None:
            sites: list[str | None] = [*sorted(query.site_ids)]
            if query.include_network_wide:
                sites.append(None)
            match["site_id"] = {"$in": sites}
        if query.status:
            match["status"] = query.status
        if query.owner:
            match["owner"] = query.owner
        if query.source:
            match[self._source_field] = query.source
        recorded: Document = {}
        if query.recorded_from is not None:
            recorded["$gte"] = query.recorded_from
        if query.recorded_to is not None:
            recorded["$lt"] = query.recorded_to
        if recorded:
            match[self._recorded_field] = recorded
        if query.overdue_at is not None:
            match.update(self._overdue(query.overdue_at))
        return match

    async def search(self, query: Query) -> tuple[list[M], int]:
        match = self._filter(query)
        total = await self._collection.count_documents(match)
        cursor = (
            self._collection.find(match)
            .sort([(self._recorded_field, DESCENDING), ("_id", ASCENDING)])
            .skip(query.offset)
            .limit(query.limit)
        )
        return [self._entity(doc) async for doc in cursor], total

    async def each(self, match: Document) -> list[M]:
        """Entities of every network matching ``match`` (background sweeps only)."""
        return [self._entity(doc) async for doc in self._collection.find(match)]

    async def counts_by_site(self, match: Document) -> list[tuple[str, str | None, int]]:
        """Matching entities per network and site (``$group`` with ``$sum``: FerretDB-safe)."""
        pipeline: list[Document] = [
            {"$match": match},
            {
                "$group": {
                    "_id": {"network_id": "$network_id", "site_id": "$site_id"},
                    "count": {"$sum": 1},
                }
            },
        ]
        cursor = await self._collection.aggregate(pipeline)
        return [
            (doc["_id"]["network_id"], doc["_id"].get("site_id"), int(doc["count"]))
            async for doc in cursor
        ]

    async def pending(self, *, limit: int = 100) -> list[tuple[str, list[str]]]:
        cursor = self._collection.find({"outbox.0": {"$exists": True}}, {"outbox": 1}, limit=limit)
        return [(doc["_id"], list(doc["outbox"])) async for doc in cursor]

    async def published(self, *, entity_id: str, events: Sequence[str]) -> None:
        await self._collection.update_one(
            {"_id": entity_id}, {"$pullAll": {"outbox": list(events)}}
        )


def _case_overdue(now: datetime) -> Document:
    return {
        "status": {"$ne": CaseStatus.CLOSED.value},
        "$or": [
            {"acknowledge_due_at": {"$lte": now}, "acknowledged_at": None},
            {"answer_due_at": {"$lte": now}, "answered_at": None},
        ],
    }


def _action_overdue(now: datetime) -> Document:
    return {
        "status": {"$in": sorted(s.value for s in UNFINISHED)},
        "due_date": {"$lt": now.date().isoformat(), "$ne": None},
    }


class MongoCaseRepository(MongoEntities[Case]):
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        super().__init__(
            client[database]["cases"],
            model=Case,
            id_field="case_id",
            recorded_field="opened_at",
            source_field="source",
            overdue=_case_overdue,
            additive=frozenset({"overdue", "action_ids"}),
        )

    async def open(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        await self.insert(
            Case.opened(case, network_id=network_id, site_id=site_id),
            extra={"announced": False},
        )

    async def unannounced(self, *, case_id: str) -> bool:
        return await self._collection.count_documents({"_id": case_id, "announced": False}) > 0

    async def mark_announced(self, *, case_id: str) -> None:
        await self._collection.update_one({"_id": case_id}, {"$set": {"announced": True}})

    async def overdue_candidates(self, now: datetime) -> list[Case]:
        return await self.each(_case_overdue(now))


class MongoActionRepository(MongoEntities[Action]):
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        super().__init__(
            client[database]["actions"],
            model=Action,
            id_field="action_id",
            recorded_field="created_at",
            source_field="origin",
            overdue=_action_overdue,
        )

    async def create_indexes(self) -> None:
        await super().create_indexes()
        await self._collection.create_index(
            [("status", ASCENDING), ("evaluate_after", ASCENDING)], name="evaluation"
        )

    async def due_for_evaluation(self, now: datetime) -> list[Action]:
        return await self.each({"status": "done", "evaluate_after": {"$lte": now}})


class MongoMeetingRepository(MongoEntities[Meeting]):
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        super().__init__(
            client[database]["meetings"],
            model=Meeting,
            id_field="meeting_id",
            recorded_field="held_at",
            source_field="kind",
            overdue=lambda _: {"_id": None},  # meetings have no deadline
            additive=frozenset({"action_ids"}),
        )


class MongoDeadlineSettings:
    """Per-network deadline overrides set through the API; else the configured policy."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        *,
        fallback: Callable[[str], Deadlines],
    ) -> None:
        self._settings = client[database]["network_settings"]
        self._fallback = fallback

    async def deadlines_for(self, *, network_id: str) -> Deadlines:
        found = await self._settings.find_one({"_id": network_id})
        if found is None or "acknowledge_within_hours" not in found:
            return self._fallback(network_id)
        return Deadlines(
            timedelta(hours=found["acknowledge_within_hours"]),
            timedelta(days=found["answer_within_days"]),
        )

    async def set_deadlines(self, *, network_id: str, deadlines: Deadlines) -> None:
        await self._settings.update_one(
            {"_id": network_id},
            {
                "$set": {
                    "acknowledge_within_hours": deadlines.acknowledge_within / timedelta(hours=1),
                    "answer_within_days": deadlines.answer_within / timedelta(days=1),
                }
            },
            upsert=True,
        )


class MongoKpiRepository:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._client = client
        self._kpis = client[database]["kpi_snapshots"]
        self._atomic = True

    async def prepare(self) -> None:
        """Indexes, and keep_latest_revision's by-``_id`` form on FerretDB (which scans the
        collection for any other filter)."""
        self._atomic = not await is_ferretdb(self._client)
        await self.create_indexes()

    async def create_indexes(self) -> None:
        await self._kpis.create_index(
            [("network_id", ASCENDING), ("scope_key", ASCENDING)], name="scope"
        )

    async def keep_latest(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        return await keep_latest_revision(
            self._kpis,
            key=snapshot.key,
            revision=snapshot.revision,
            document={
                "network_id": snapshot.scope.network_id,
                "scope_key": snapshot.scope.key(),
                "snapshot": snapshot.model_dump(mode="json"),
            },
            atomic=self._atomic,
        )

    async def snapshots_for(
        self, *, network_id: str, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        query: Document = {"network_id": network_id} | (
            {"scope_key": scope_key} if scope_key else {}
        )
        cursor = self._kpis.find(query).sort("_id", ASCENDING)
        return [ScopeMetricsUpdated.model_validate(doc["snapshot"]) async for doc in cursor]

    async def data_until(self, *, network_id: str) -> datetime | None:
        cursor = self._kpis.find(
            {"network_id": network_id}, projection={"snapshot.period.end": True, "_id": False}
        )
        ends = [
            datetime.fromisoformat(doc["snapshot"]["period"]["end"])
            async for doc in cursor
            if doc.get("snapshot", {}).get("period", {}).get("end")
        ]
        return max(ends) if ends else None


async def refresh_gauges(
    *, cases: MongoCaseRepository, actions: MongoActionRepository, metrics: ActionsMetrics
) -> None:
    """Open and overdue cases and actions by network and site, counted in the database."""
    now = datetime.now(UTC)
    open_cases: Document = {"status": {"$ne": CaseStatus.CLOSED.value}}
    open_actions: Document = {"status": {"$in": sorted(s.value for s in OPEN_ACTION_STATUSES)}}
    for gauge, store, match in (
        (metrics.open_cases, cases, open_cases),
        (metrics.overdue_cases, cases, _case_overdue(now)),
        (metrics.open_actions, actions, open_actions),
        (metrics.overdue_actions, actions, _action_overdue(now)),
    ):
        counts = await store.counts_by_site(match)
        gauge.clear()
        for network_id, site_id, count in counts:
            gauge.labels(network_id, site_id or "").set(count)
