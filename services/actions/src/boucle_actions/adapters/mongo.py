"""MongoDB repositories of the actions service."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated
from boucle_runtime.mongo import insert_once, keep_latest_revision

Document = dict[str, Any]
PUBLIC_FIELDS = {"_id": 0, "case": 1}


class MongoCaseRepository:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._cases = client[database]["cases"]

    async def create_indexes(self) -> None:
        await self._cases.create_index(
            [("network_id", ASCENDING), ("site_id", ASCENDING)], name="tenant"
        )

    async def open(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        await insert_once(
            self._cases,
            {
                "_id": case.case_id,
                "network_id": network_id,
                "site_id": site_id,
                "status": "received",
                "revision": 1,
                "announced": False,
                "case": case.model_dump(mode="json"),
            },
        )

    async def unannounced(self, *, case_id: str) -> bool:
        return await self._cases.count_documents({"_id": case_id, "announced": False}) > 0

    async def mark_announced(self, *, case_id: str) -> None:
        await self._cases.update_one({"_id": case_id}, {"$set": {"announced": True}})

    async def list_for(
        self, *, network_id: str, site_id: str | None = None
    ) -> list[ComplaintCaseOpened]:
        query: Document = {"network_id": network_id} | ({"site_id": site_id} if site_id else {})
        cursor = self._cases.find(query, PUBLIC_FIELDS).sort("_id", ASCENDING)
        return [ComplaintCaseOpened.model_validate(doc["case"]) async for doc in cursor]


class MongoKpiRepository:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._kpis = client[database]["kpi_snapshots"]

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
        )

    async def snapshots_for(
        self, *, network_id: str, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        query: Document = {"network_id": network_id} | (
            {"scope_key": scope_key} if scope_key else {}
        )
        cursor = self._kpis.find(query).sort("_id", ASCENDING)
        return [ScopeMetricsUpdated.model_validate(doc["snapshot"]) async for doc in cursor]
