"""The reporter's read model in MongoDB, built only from events."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import ScopeLevel
from boucle_runtime.mongo import insert_once, keep_latest_revision

Document = dict[str, Any]
CASE_STATUS_LABELS = {"received": "Reçue"}


def _tenant(network_id: str, site_id: str | None) -> Document:
    return {"network_id": network_id} | ({"site_id": site_id} if site_id else {})


class MongoReadModel:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        db = client[database]
        self._evidence = db["evidence"]
        self._analyses = db["analyses"]
        self._cases = db["cases"]

    async def create_indexes(self) -> None:
        for collection in (self._evidence, self._analyses, self._cases):
            await collection.create_index(
                [("network_id", ASCENDING), ("site_id", ASCENDING)], name="tenant"
            )

    async def record_evidence(self, *, event: AnyEvent) -> bool:
        return await insert_once(
            self._evidence,
            {
                "_id": event.id,
                "network_id": event.network_id,
                "site_id": event.site_id,
                "type": event.type,
                "time": event.time,
                "event": event.model_dump(mode="json", by_alias=True, exclude_none=True),
            },
        )

    async def keep_analysis(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        return await keep_latest_revision(
            self._analyses,
            key=snapshot.key,
            revision=snapshot.revision,
            document={
                "network_id": snapshot.scope.network_id,
                "site_id": snapshot.scope.site_id,
                "level": snapshot.scope.level.value,
                "granularity": snapshot.granularity.value,
                "snapshot": snapshot.model_dump(mode="json"),
            },
        )

    async def keep_case(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        await insert_once(
            self._cases,
            {
                "_id": case.case_id,
                "network_id": network_id,
                "site_id": site_id,
                "status": "received",
                "case": case.model_dump(mode="json"),
            },
        )

    async def analyses(
        self,
        *,
        network_id: str,
        level: ScopeLevel,
        granularity: Granularity,
        site_id: str | None = None,
    ) -> list[ScopeMetricsUpdated]:
        query = _tenant(network_id, site_id) | {
            "level": level.value,
            "granularity": granularity.value,
        }
        cursor = self._analyses.find(query).sort("_id", ASCENDING)
        return [ScopeMetricsUpdated.model_validate(doc["snapshot"]) async for doc in cursor]

    async def cases(
        self, *, network_id: str, site_id: str | None = None
    ) -> list[tuple[ComplaintCaseOpened, str | None, str]]:
        cursor = self._cases.find(_tenant(network_id, site_id)).sort("_id", ASCENDING)
        return [
            (
                ComplaintCaseOpened.model_validate(doc["case"]),
                doc.get("site_id"),
                CASE_STATUS_LABELS.get(str(doc["status"]), str(doc["status"])),
            )
            async for doc in cursor
        ]
