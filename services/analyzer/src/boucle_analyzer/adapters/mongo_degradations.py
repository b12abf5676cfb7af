"""Degradations and detection cursors in MongoDB.

Single-document writes only (FerretDB v1): a degradation is upserted whole under its
deterministic degradation id, so a re-run of the detection over the same weeks rewrites the
same documents. The collection keeps its historical name ``episodes`` (and its fields their
names) so that existing deployments keep their open degradations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.domain.schedule import Progress
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import Metric, Observation

Document = dict[str, Any]
COLLECTION = "episodes"  # the former word for a degradation; renaming it would orphan data


class MongoDegradationStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._db: AsyncDatabase[Document] = client[database]
        self._degradations = self._db[COLLECTION]
        self._cursors = self._db["detection_cursors"]
        self._checkpoints = self._db["detection_checkpoints"]

    async def create_indexes(self) -> None:
        await self._degradations.create_index(
            [("network_id", ASCENDING), ("open", ASCENDING)], name="network_open"
        )

    async def open_degradations(self, *, network_id: str) -> dict[str, Degradation]:
        cursor = self._degradations.find({"network_id": network_id, "open": True})
        degradations = [_degradation(document) async for document in cursor]
        return {degradation.key: degradation for degradation in degradations}

    async def save(self, *, network_id: str, degradations: Sequence[Degradation]) -> None:
        for degradation in degradations:
            await self._degradations.replace_one(
                {"_id": degradation.degradation_id},
                {"network_id": network_id, "open": degradation.open, **_document(degradation)},
                upsert=True,
            )

    async def evaluated_through(self, *, network_id: str) -> datetime | None:
        document = await self._cursors.find_one({"_id": network_id})
        return None if document is None else document["week"]

    async def set_evaluated_through(self, *, network_id: str, week: datetime) -> None:
        await self._cursors.replace_one({"_id": network_id}, {"week": week}, upsert=True)

    async def degradations(self, *, network_id: str, open_only: bool) -> list[Degradation]:
        where: Document = {"network_id": network_id}
        if open_only:
            where["open"] = True
        cursor = self._degradations.find(where).sort(
            [("opened_week", ASCENDING), ("_id", ASCENDING)]
        )
        return [_degradation(document) async for document in cursor]

    async def count_open(self) -> int:
        return await self._degradations.count_documents({"open": True})

    async def progress(self, *, network_id: str) -> Progress:
        document = await self._cursors.find_one({"_id": network_id})
        if document is None:
            return Progress()
        return Progress(
            through=document.get("week"),
            evaluated={
                _at(pair["week"]): int(pair["revision"]) for pair in document.get("evaluated", [])
            },
            watermark=_utc(document.get("watermark")),
            total=int(document.get("total", 0)),
            quiet_since=_utc(document.get("quiet_since")),
            retracted=tuple(_degradation(d) for d in document.get("retracted", [])),
        )

    async def set_progress(self, *, network_id: str, progress: Progress) -> None:
        """One document per network (FerretDB: single-document writes)."""
        await self._cursors.replace_one(
            {"_id": network_id},
            {
                "week": progress.through,
                # a list of subdocuments: keys cannot be dates, FerretDB v1 nests no arrays
                "evaluated": [
                    {"week": week, "revision": revision}
                    for week, revision in sorted(progress.evaluated.items())
                ],
                "watermark": progress.watermark,
                "total": progress.total,
                "quiet_since": progress.quiet_since,
                "retracted": [
                    {"_id": d.degradation_id, **_document(d)} for d in progress.retracted
                ],
            },
            upsert=True,
        )

    async def checkpoint(
        self, *, network_id: str, week: datetime, open_degradations: Sequence[Degradation]
    ) -> None:
        await self._checkpoints.replace_one(
            {"_id": _checkpoint_id(network_id, week)},
            {
                "network_id": network_id,
                "week": week,
                "open": [{"_id": d.degradation_id, **_document(d)} for d in open_degradations],
            },
            upsert=True,
        )

    async def restore(self, *, network_id: str, week: datetime) -> list[Degradation] | None:
        document = await self._checkpoints.find_one({"_id": _checkpoint_id(network_id, week)})
        return None if document is None else [_degradation(d) for d in document["open"]]

    async def remove(self, *, network_id: str, degradation_ids: Sequence[str]) -> None:
        for degradation_id in degradation_ids:  # by _id: the only filter FerretDB v1 indexes
            await self._degradations.delete_one({"_id": degradation_id})


def _checkpoint_id(network_id: str, week: datetime) -> str:
    return f"{network_id}|{week.date().isoformat()}"


def _at(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc(moment: datetime | None) -> datetime | None:
    """PyMongo reads dates back naive (UTC) unless the client is tz-aware."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _document(degradation: Degradation) -> Document:
    return {
        "key": degradation.key,
        "scope": degradation.scope.model_dump(mode="json", exclude_none=True),
        "metric": degradation.metric.value,
        "dimension": degradation.dimension,
        "opened_week": degradation.opened_week,
        "baseline": degradation.baseline.model_dump(mode="json"),
        "current": degradation.current.model_dump(mode="json"),
        "calm_weeks": degradation.calm_weeks,
        "resolved_week": degradation.resolved_week,
    }


def _degradation(document: Document) -> Degradation:
    return Degradation(
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
