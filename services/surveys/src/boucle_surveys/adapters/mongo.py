"""MongoDB stores of the surveys service (PyMongo's async API; runs on MongoDB and on
FerretDB). Every document is addressed by an ``_id`` derived from what it holds, so a
redelivered fact rewrites the same document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import SurveyKind
from boucle_contracts.solicitations.v1 import ClosingReason, CollectionRule
from boucle_surveys.domain.plan import PlanVersion
from boucle_surveys.domain.planning import Enrolment
from boucle_surveys.domain.solicitation import Solicitation, Status, answer_order

Document = dict[str, Any]


class MongoPlans:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._plans = client[database]["collection_plans"]

    async def versions(self, network_id: str) -> list[PlanVersion]:
        cursor = self._plans.find({"network_id": network_id})
        return [_plan(doc) async for doc in cursor]

    async def networks(self) -> list[str]:
        return sorted({doc["network_id"] async for doc in self._plans.find({}, {"network_id": 1})})

    async def add(self, plan: PlanVersion) -> bool:
        document = asdict(plan) | {
            "_id": f"{plan.network_id}:{plan.version}",
            "rules": [rule.model_dump(mode="json") for rule in plan.rules],
        }
        try:
            await self._plans.insert_one(document)
        except DuplicateKeyError:
            return False
        return True


def _plan(doc: Document) -> PlanVersion:
    return PlanVersion(
        network_id=doc["network_id"],
        version=doc["version"],
        effective_from=_aware(doc["effective_from"]),
        rules=tuple(CollectionRule.model_validate(rule) for rule in doc["rules"]),
        published_by=doc["published_by"],
        published_at=_aware(doc["published_at"]),
        note=doc.get("note"),
    )


class MongoRoster:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._enrolments = client[database]["enrolments"]
        self._trainers = client[database]["trainers"]

    async def create_indexes(self) -> None:
        await self._enrolments.create_index([("network_id", ASCENDING), ("session_id", ASCENDING)])

    async def enrol(self, network_id: str, enrolment: Enrolment) -> None:
        document = {
            "network_id": network_id,
            "session_id": enrolment.training.session_id,
            "learner_ref": enrolment.learner_ref,
            "site_id": enrolment.site_id,
            "training": enrolment.training.model_dump(mode="json"),
            "funder_id": enrolment.funder_id,
            "company_id": enrolment.company_id,
        }
        # A dropout recorded before its enrolment arrived must survive the enrolment.
        await self._enrolments.update_one(
            {"_id": f"{network_id}:{enrolment.enrolment_id}"},
            {"$set": document, "$setOnInsert": {"dropped_out": False}},
            upsert=True,
        )

    async def drop_out(self, network_id: str, enrolment_id: str) -> Enrolment | None:
        key = {"_id": f"{network_id}:{enrolment_id}"}
        await self._enrolments.update_one(key, {"$set": {"dropped_out": True}})
        found = await self._enrolments.find_one(key)
        return _enrolment(found) if found else None

    async def of_session(self, network_id: str, session_id: str) -> list[Enrolment]:
        cursor = self._enrolments.find({"network_id": network_id, "session_id": session_id})
        return [_enrolment(doc) async for doc in cursor]

    async def people(self, network_id: str) -> dict[str, set[str]]:
        funders: set[str] = set()
        companies: set[str] = set()
        async for doc in self._enrolments.find({"network_id": network_id}):
            funders.update([doc["funder_id"]] if doc.get("funder_id") else [])
            companies.update([doc["company_id"]] if doc.get("company_id") else [])
        trainers = {d["trainer_id"] async for d in self._trainers.find({"network_id": network_id})}
        return {
            RespondentRole.FUNDER: funders,
            RespondentRole.COMPANY: companies,
            RespondentRole.TRAINER: trainers,
        }

    async def note_trainers(self, network_id: str, trainer_ids: Sequence[str]) -> None:
        for trainer_id in trainer_ids:
            await self._trainers.update_one(
                {"_id": f"{network_id}:{trainer_id}"},
                {"$set": {"network_id": network_id, "trainer_id": trainer_id}},
                upsert=True,
            )


def _enrolment(doc: Document) -> Enrolment:
    return Enrolment(
        enrolment_id=str(doc["_id"]).split(":", 1)[1],
        learner_ref=doc["learner_ref"],
        site_id=doc.get("site_id"),
        training=TrainingRef.model_validate(doc.get("training") or {}),
        funder_id=doc.get("funder_id"),
        company_id=doc.get("company_id"),
        dropped_out=bool(doc.get("dropped_out")),
    )


class MongoSolicitations:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._items = client[database]["solicitations"]

    async def create_indexes(self) -> None:
        await self._items.create_index([("next_at", ASCENDING)])
        await self._items.create_index(
            [("network_id", ASCENDING), ("survey_id", ASCENDING), ("respondent_ref", ASCENDING)]
        )

    async def add_new(
        self, solicitations: Sequence[Solicitation], pending: Callable[[Solicitation], bytes]
    ) -> list[Solicitation]:
        stored = []
        for solicitation in solicitations:
            document = _document(solicitation) | {"pending": [pending(solicitation)]}
            result = await self._items.update_one(
                {"_id": solicitation.solicitation_id}, {"$setOnInsert": document}, upsert=True
            )
            if result.upserted_id is not None:
                stored.append(solicitation)
        return stored

    async def due(self, now: datetime, limit: int) -> list[Solicitation]:
        cursor = self._items.find({"next_at": {"$lte": now}}).sort("next_at", ASCENDING)
        return [_solicitation(doc) async for doc in cursor.limit(limit)]

    async def save(self, solicitation: Solicitation, pending: Sequence[bytes] = ()) -> None:
        update: Document = {"$set": _document(solicitation)}
        if pending:
            update["$push"] = {"pending": {"$each": list(pending)}}
        await self._items.update_one({"_id": solicitation.solicitation_id}, update)

    async def published(self, solicitation_id: str) -> None:
        await self._items.update_one({"_id": solicitation_id}, {"$set": {"pending": []}})

    async def unpublished(self, limit: int) -> list[tuple[str, list[bytes]]]:
        cursor = self._items.find({"pending.0": {"$exists": True}}, {"pending": 1}).limit(limit)
        return [(doc["_id"], [bytes(p) for p in doc["pending"]]) async for doc in cursor]

    async def answerable(
        self, network_id: str, survey_id: str, respondent_ref: str | None, session_id: str | None
    ) -> list[Solicitation]:
        query: Document = {"network_id": network_id, "survey_id": survey_id}
        if respondent_ref is not None:
            query["respondent_ref"] = respondent_ref
        else:
            query |= {"anonymous": True, "training.session_id": session_id}
        found = [_solicitation(doc) async for doc in self._items.find(query)]
        return answer_order(found, session_id)

    async def of_network(self, network_id: str) -> list[Solicitation]:
        return [_solicitation(doc) async for doc in self._items.find({"network_id": network_id})]

    async def erase_subject(self, network_id: str, respondent_ref: str) -> int:
        """A person's erasure: their solicitations keep counting in rates, without them."""
        result = await self._items.update_many(
            {"network_id": network_id, "respondent_ref": respondent_ref},
            {"$set": {"respondent_ref": "efface", "next_at": None}},
        )
        return result.modified_count


def _document(s: Solicitation) -> Document:
    document = asdict(s)
    document |= {
        "_id": s.solicitation_id,
        "training": s.training.model_dump(mode="json"),
        "survey_kind": str(s.survey_kind),
        "respondent_role": str(s.respondent_role),
        "status": str(s.status),
        "closing_reason": str(s.closing_reason) if s.closing_reason else None,
        "reminder_days": list(s.reminder_days),
        "next_at": s.next_at(),
    }
    return document


def _solicitation(doc: Document) -> Solicitation:
    closing = doc.get("closing_reason")
    return Solicitation(
        solicitation_id=doc["_id"],
        network_id=doc["network_id"],
        site_id=doc.get("site_id"),
        plan_version=int(doc["plan_version"]),
        rule_id=doc["rule_id"],
        survey_id=doc["survey_id"],
        survey_kind=SurveyKind(doc["survey_kind"]),
        respondent_role=RespondentRole(doc["respondent_role"]),
        respondent_ref=doc["respondent_ref"],
        anonymous=bool(doc["anonymous"]),
        occasion=doc["occasion"],
        training=TrainingRef.model_validate(doc.get("training") or {}),
        due_at=_aware(doc["due_at"]),
        expires_at=_aware(doc["expires_at"]),
        reminder_days=tuple(doc.get("reminder_days") or ()),
        status=Status(doc["status"]),
        sent_at=_aware(doc.get("sent_at")),
        reminders_sent=int(doc.get("reminders_sent") or 0),
        answered_at=_aware(doc.get("answered_at")),
        response_id=doc.get("response_id"),
        closing_reason=ClosingReason(closing) if closing else None,
        closed_at=_aware(doc.get("closed_at")),
    )


class MongoDeliveries:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._claims = client[database]["deliveries"]

    async def claim(self, key: str, at: datetime) -> bool:
        try:
            await self._claims.insert_one({"_id": key, "claimed_at": at})
        except DuplicateKeyError:
            return False
        return True

    async def release(self, key: str) -> None:
        await self._claims.delete_one({"_id": key})


class MongoNames:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._names = client[database]["names"]

    async def name_of(self, network_id: str, kind: str, entity_id: str) -> str | None:
        found = await self._names.find_one({"_id": f"{network_id}:{kind}:{entity_id}"})
        return str(found["name"]) if found else None

    async def remember(self, network_id: str, kind: str, entity_id: str, name: str) -> None:
        await self._names.update_one(
            {"_id": f"{network_id}:{kind}:{entity_id}"}, {"$set": {"name": name}}, upsert=True
        )


def _aware(value: Any) -> Any:
    """The client is built with ``tz_aware=True`` (boucle_runtime.mongo); this guards a
    client that is not."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
