"""The reporter's MongoDB storage: evidence log, read model, builds. FerretDB-compatible.

No transactions: every write is one atomic single-document operation. The evidence log's
entries carry ``_id = "<network>:<seq>"``, so two appenders racing for one sequence number
collide on the key and the loser retries; a receipt per event id (looked up by ``_id``)
answers a redelivery, backed by a unique index on (network, event id); the chain head is a
hint moved by compare-and-set on (seq, hash) and repaired by whoever finds it lagging (a
crash between the insert and the head's move).

FerretDB scans a whole collection for a filter that matches nothing unless it is ``_id``
alone: every hot path here looks documents up by ``_id`` first.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from boucle_contracts.registry import AnyEvent
from boucle_reporter.domain.chain import (
    ChainEntry,
    ChainHead,
    ChainVerifier,
    Verification,
    entry_id,
    seal,
    subjects_of,
)
from boucle_reporter.domain.ports import COLLECTIONS, UNFINISHED, Build, SubjectErasure
from boucle_reporter.domain.projection.write import Write
from boucle_reporter.domain.retention import SUBJECT_REQUEST, Erasure, retention_reason
from boucle_reporter.domain.signing import Signer, signed_verification
from boucle_runtime.mongo import is_ferretdb

Document = dict[str, Any]
MAX_APPEND_ATTEMPTS = 200
MAX_WRITE_ATTEMPTS = 20


class ChainContentionError(RuntimeError):
    """Too many concurrent appenders won the race: the handler fails and is retried."""


class MongoEvidenceLog:
    """``signer``: signs each verification report it keeps (None: reports are unsigned)."""

    def __init__(
        self, client: AsyncMongoClient[Document], database: str, *, signer: Signer | None = None
    ) -> None:
        db = client[database]
        self._entries = db["evidence"]
        self._heads = db["evidence_heads"]
        self._verifications = db["evidence_verifications"]
        self._receipts = db["evidence_receipts"]
        self._erasures = db["evidence_erasures"]
        self._signer = signer

    async def create_indexes(self) -> None:
        await self._entries.create_index(
            [("network_id", ASCENDING), ("event_id", ASCENDING)], unique=True, name="event"
        )
        await self._entries.create_index(
            [("network_id", ASCENDING), ("seq", ASCENDING)], name="sequence"
        )
        # erasure by data subject and by retention are queries, not scans
        await self._entries.create_index(
            [("network_id", ASCENDING), ("subjects", ASCENDING)], name="subjects", sparse=True
        )
        await self._entries.create_index([("type", ASCENDING), ("time", ASCENDING)], name="age")

    async def append(self, *, event: AnyEvent) -> tuple[int, bool]:
        network = event.network_id
        receipt = f"{network}|{event.id}"
        document = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        for _ in range(MAX_APPEND_ATTEMPTS):
            recorded = await self._receipts.find_one({"_id": receipt})
            if recorded is not None:
                return int(recorded["seq"]), False
            head = await self.head(network_id=network)
            entry = seal(
                network_id=network, seq=head.seq + 1, previous_hash=head.hash, event=document
            )
            try:
                await self._entries.insert_one(_entry_document(entry, event, document))
            except DuplicateKeyError:
                seq = await self._after_collision(network, head, event.id)
                if seq is not None:
                    await self._receipt(receipt, seq)
                    return seq, False
                continue
            await self._advance(network, head, ChainHead(entry.seq, entry.hash))
            await self._receipt(receipt, entry.seq)
            return entry.seq, True
        raise ChainContentionError(f"could not append to the evidence log of {network}")

    async def _receipt(self, receipt: str, seq: int) -> None:
        """Event id → sequence number, by ``_id``: the fast duplicate check."""
        with contextlib.suppress(DuplicateKeyError):
            await self._receipts.insert_one({"_id": receipt, "seq": seq})

    async def _after_collision(self, network: str, head: ChainHead, event_id: str) -> int | None:
        """The event's sequence number if it is in the chain already, else None (retry).

        The sequence number was taken (move the head on, it lagged or another appender won),
        or the event is in the chain but its receipt is not (a crash in between): then the
        unique index found it, and so does this (slower, rare) query.
        """
        taken = await self._entries.find_one({"_id": entry_id(network, head.seq + 1)})
        if taken is not None:
            await self._advance(network, head, ChainHead(int(taken["seq"]), str(taken["hash"])))
            return int(taken["seq"]) if taken["event_id"] == event_id else None
        recorded = await self._entries.find_one(
            {"network_id": network, "event_id": event_id}, {"seq": 1}
        )
        return int(recorded["seq"]) if recorded is not None else None

    async def head(self, *, network_id: str) -> ChainHead:
        doc = await self._heads.find_one({"_id": network_id})
        return ChainHead(int(doc["seq"]), str(doc["hash"])) if doc else ChainHead()

    async def _advance(self, network: str, old: ChainHead, new: ChainHead) -> None:
        """Compare-and-set: moves the head only from where this appender saw it."""
        with contextlib.suppress(DuplicateKeyError):  # someone else moved it first
            await self._heads.update_one(
                {"_id": network, "seq": old.seq, "hash": old.hash},
                {"$set": {"seq": new.seq, "hash": new.hash}},
                upsert=True,
            )

    async def verify(
        self, *, network_id: str, anchors: Mapping[int, str] | None = None
    ) -> Verification:
        verifier = ChainVerifier(network_id, anchors)
        # The head first, then the entries up to it: an entry is inserted before the head
        # moves, so entries appended while this walks are neither walked nor named by the head
        # (reading the head last took them for removed entries).
        head = await self._heads.find_one({"_id": network_id})
        walked: dict[str, Any] = {"network_id": network_id}
        if head is not None:
            walked["seq"] = {"$lte": int(head["seq"])}
        cursor = self._entries.find(walked).sort("seq", ASCENDING)
        async for doc in cursor:
            if not verifier.feed(_entry(doc)):
                break
        await cursor.close()
        result = verifier.result(ChainHead(int(head["seq"]), str(head["hash"])) if head else None)
        result = signed_verification(result, self._signer)
        await self._verifications.replace_one(
            {"_id": network_id}, {"report": result.report()}, upsert=True
        )
        return result

    async def links(self, *, network_id: str, until_seq: int) -> AsyncIterator[ChainEntry]:
        cursor = self._entries.find(
            {"network_id": network_id, "seq": {"$lte": until_seq}}, {"subjects": 0}
        ).sort("seq", ASCENDING)
        try:
            async for doc in cursor:
                yield _entry(doc)
        finally:
            await cursor.close()

    async def last_verification(self, *, network_id: str) -> Verification | None:
        doc = await self._verifications.find_one({"_id": network_id})
        return Verification.from_report(doc["report"]) if doc else None

    async def erase_subject(
        self, *, network_id: str, subject: str, now: datetime
    ) -> SubjectErasure:
        """Null the body of every entry about ``subject``; drop the pseudonym from them."""
        erasable: list[str] = []
        complaints: list[str] = []
        version_1 = 0
        cursor = self._entries.find(
            {"network_id": network_id, "subjects": subject}, {"body": 1, "v": 1}
        )
        async for doc in cursor:
            if int(doc.get("v", 1)) < 2:
                version_1 += 1
                continue
            erasable.append(doc["_id"])
            complaints += _complaint_ids(doc.get("body"))
        # The cases of their complaints: staff notes and answers may name them in clear.
        erasable += await self._case_entries(network_id, sorted(set(complaints)))
        if erasable:
            await self._entries.update_many(
                {"_id": {"$in": erasable}},
                {
                    "$set": {"body": None, "erased_at": now, "erasure_reason": SUBJECT_REQUEST},
                    "$unset": {"subjects": ""},
                },
            )
            await self._count_erasure(network_id, now, SUBJECT_REQUEST, len(erasable))
        return SubjectErasure(len(erasable), version_1, tuple(sorted(set(complaints))))

    async def _case_entries(self, network_id: str, complaint_ids: Sequence[str]) -> list[str]:
        """Entries (v2, body present) of the cases opened for these complaints: found by
        the complaint id in the opening's body, then by the case id in every case event."""
        if not complaint_ids:
            return []
        cases_only = {"network_id": network_id, "type": {"$regex": CASE_TYPES}, "v": 2}
        openings = self._entries.find(
            {**cases_only, "body": {"$regex": _any_field("source_ref", complaint_ids)}},
            {"body": 1},
        )
        case_ids = sorted(
            {
                case_id
                async for doc in openings
                if isinstance(
                    case_id := (json.loads(doc["body"]).get("data") or {}).get("case_id"), str
                )
            }
        )
        if not case_ids:
            return []
        found = self._entries.find(
            {**cases_only, "body": {"$regex": _any_field("case_id", case_ids)}}, {"_id": 1}
        )
        return [doc["_id"] async for doc in found]

    async def erase_expired(
        self,
        *,
        types: Sequence[str],
        exclude: bool,
        family: str,
        before: datetime,
        now: datetime,
        limit: int,
    ) -> int:
        """Null up to ``limit`` bodies of v2 entries of ``types`` (or of every other type,
        ``exclude``) whose event time is before ``before``; the number erased."""
        query: Document = {
            "type": {"$nin" if exclude else "$in": list(types)},
            "time": {"$lt": before},
            "v": 2,
            "body": {"$ne": None},
        }
        found = [d async for d in self._entries.find(query, {"network_id": 1}).limit(limit)]
        if not found:
            return 0
        reason = retention_reason(family)
        await self._entries.update_many(
            {"_id": {"$in": [d["_id"] for d in found]}},
            {
                "$set": {"body": None, "erased_at": now, "erasure_reason": reason},
                "$unset": {"subjects": ""},
            },
        )
        per_network: dict[str, int] = {}
        for doc in found:
            per_network[doc["network_id"]] = per_network.get(doc["network_id"], 0) + 1
        for network, count in per_network.items():
            await self._count_erasure(network, now, reason, count)
        return len(found)

    async def _count_erasure(self, network: str, now: datetime, reason: str, count: int) -> None:
        """One counter per network, day and cause: what the dossier lists, bounded."""
        day = now.date().isoformat()
        await self._erasures.update_one(
            {"_id": f"{network}|{day}|{reason}"},
            {
                "$set": {"network_id": network, "day": day, "reason": reason},
                "$inc": {"entries": count},
            },
            upsert=True,
        )

    async def erasures(self, *, network_id: str) -> list[Erasure]:
        cursor = self._erasures.find({"network_id": network_id})
        found = [
            Erasure(network_id, str(d["day"]), str(d["reason"]), int(d["entries"]))
            async for d in cursor
        ]
        return sorted(found, key=lambda e: (e.day, e.reason))


CASE_TYPES = r"^fr\.boucle\.cases\."


def _any_field(name: str, values: Sequence[str]) -> str:
    """A regex matching ``"name":"value"`` for any of ``values`` in a canonical JSON body."""
    return "|".join(
        re.escape(f"{json.dumps(name)}:{json.dumps(v, ensure_ascii=False)}") for v in values
    )


def _complaint_ids(body: object) -> list[str]:
    """Complaint ids in an event body about to be erased (its register row is anonymised)."""
    if not isinstance(body, str):
        return []
    data = json.loads(body).get("data") or {}
    complaint = data.get("complaint_id")
    return [complaint] if isinstance(complaint, str) else []


def _entry_document(entry: ChainEntry, event: AnyEvent, document: Document) -> Document:
    return {
        "_id": entry_id(entry.network_id, entry.seq),
        "network_id": entry.network_id,
        "seq": entry.seq,
        "v": entry.version,
        "event_id": entry.event_id,
        "type": entry.event_type,
        "site_id": event.site_id,
        "time": event.time,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
        "body_hash": entry.body_hash,
        "body": entry.body,
        **({"subjects": subjects} if (subjects := subjects_of(document)) else {}),
    }


def _entry(doc: Document) -> ChainEntry:
    body, body_hash, erased_at = doc.get("body"), doc.get("body_hash"), doc.get("erased_at")
    return ChainEntry(
        network_id=str(doc.get("network_id", "")),
        seq=int(doc.get("seq", -1)),
        event_id=str(doc.get("event_id", "")),
        event_type=str(doc.get("type", "")),
        previous_hash=str(doc.get("previous_hash", "")),
        hash=str(doc.get("hash", "")),
        body=None if body is None else str(body),
        version=int(doc.get("v", 1)),
        body_hash=None if body_hash is None else str(body_hash),
        erased_at=erased_at if isinstance(erased_at, datetime) else None,
        erasure_reason=doc.get("erasure_reason"),
    )


class MongoReadModel:
    def __init__(
        self, client: AsyncMongoClient[Document], database: str, *, compare_and_set: bool = True
    ) -> None:
        self._db = client[database]
        self._compare_and_set = compare_and_set

    async def prepare(self) -> None:
        """Indexes, and whether guarded writes compare-and-set (not on FerretDB: see _apply)."""
        self._compare_and_set = not await is_ferretdb(self._db.client)
        await self.create_indexes()

    async def create_indexes(self) -> None:
        for name in COLLECTIONS:
            await self._db[name].create_index(
                [("network_id", ASCENDING), ("site_id", ASCENDING)], name="tenant"
            )

    async def apply(self, writes: Sequence[Write]) -> None:
        for write in writes:
            await self._apply(write)

    async def _apply(self, write: Write) -> None:
        """Update by ``_id``, else insert. Guards are compare-and-set on the stored value.

        FerretDB scans the whole collection for any filter but ``_id`` alone, so a guarded
        write reads the stored value by ``_id`` first, and then updates on exactly that value
        (compare-and-set) or, on FerretDB, by ``_id`` alone: a key is written by the one
        consumer of its partition (keys follow the partition key), so nothing interleaves.
        """
        collection = self._db[write.collection]
        update = _update(write)
        for _ in range(MAX_WRITE_ATTEMPTS):
            query: Document = {"_id": write.key}
            if write.newer_than:
                name, value = write.newer_than
                stored = await collection.find_one({"_id": write.key}, {name: 1})
                if stored is not None:
                    current = stored.get(name)
                    if current is not None and current >= value:
                        return  # as new or newer already: an older or repeated event
                    if self._compare_and_set:
                        query[name] = current
            if (await collection.update_one(query, update)).matched_count:
                return
            try:
                await collection.insert_one(write.new_document())
                return
            except DuplicateKeyError:
                continue  # written concurrently since we looked: look again
        raise ChainContentionError(f"could not write {write.collection} {write.key}")

    async def anonymise_complaints(
        self, *, network_id: str, complaint_ids: Sequence[str], now: datetime
    ) -> int:
        """Blank the person fields of complaints and their cases; dates and counts stay."""
        if not complaint_ids:
            return 0
        keys = [f"{network_id}|{c}" for c in complaint_ids]
        complaints = await self._db["complaints"].update_many(
            {"_id": {"$in": keys}}, {"$set": {"subject": "", "anonymised_at": now}}
        )
        cases = await self._db["cases"].update_many(
            {"network_id": network_id, "source_ref": {"$in": list(complaint_ids)}},
            {"$set": {"summary": "", "answer": "", "anonymised_at": now}},
        )
        return complaints.modified_count + cases.modified_count

    async def documents(
        self,
        collection: str,
        *,
        network_id: str,
        sites: Sequence[str] = (),
        month_from: str | None = None,
        month_to: str | None = None,
    ) -> AsyncIterator[Document]:
        query: Document = {"network_id": network_id}
        if sites:
            query["site_id"] = {"$in": list(sites)}
        months: Document = {}
        if month_from:
            months["$gte"] = month_from
        if month_to:
            months["$lte"] = month_to
        if months:
            query["month"] = months
        cursor = self._db[collection].find(query, batch_size=2_000)
        try:
            async for doc in cursor:
                yield doc
        finally:
            await cursor.close()


def _update(write: Write) -> Document:
    fields = dict(write.fields)
    if write.newer_than:
        fields[write.newer_than[0]] = write.newer_than[1]
    update: Document = {}
    if fields:
        update["$set"] = fields
    if write.increments:
        update["$inc"] = write.increments
    if write.members:
        update["$addToSet"] = {k: {"$each": list(v)} for k, v in write.members.items()}
    return update  # on_insert only matters to new documents: see Write.new_document


class MongoBuildStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._builds = client[database]["builds"]

    async def create_indexes(self) -> None:
        await self._builds.create_index(
            [("network_id", ASCENDING), ("requested_at", DESCENDING)], name="recent"
        )

    async def save(self, build: Build) -> None:
        document = asdict(build)
        document["_id"] = document.pop("build_id")
        # file names hold dots, which FerretDB refuses in keys: a list of files instead
        document["files"] = [{"name": k, **v} for k, v in build.files.items()]
        await self._builds.replace_one({"_id": build.build_id}, document, upsert=True)

    async def get(self, build_id: str) -> Build | None:
        doc = await self._builds.find_one({"_id": build_id})
        return _build(doc) if doc else None

    async def recent(self, *, network_id: str, limit: int = 20) -> list[Build]:
        cursor = self._builds.find({"network_id": network_id}).sort("requested_at", DESCENDING)
        return [_build(doc) async for doc in cursor.limit(limit)]

    async def unfinished(self) -> list[Build]:
        cursor = self._builds.find({"status": {"$in": list(UNFINISHED)}})
        return [_build(doc) async for doc in cursor]


def _build(doc: Document) -> Build:
    doc = dict(doc)
    doc["build_id"] = doc.pop("_id")
    doc["files"] = {f.pop("name"): f for f in doc.get("files", [])}
    return Build(**doc)
