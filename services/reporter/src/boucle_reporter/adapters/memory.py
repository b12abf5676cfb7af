"""In-memory storage with the MongoDB adapter's semantics: unit tests and local tools."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from boucle_contracts.registry import AnyEvent
from boucle_reporter.domain.chain import (
    ChainEntry,
    ChainHead,
    Verification,
    erased,
    seal,
    subjects_of,
    verify_chain,
)
from boucle_reporter.domain.ports import UNFINISHED, Build, SubjectErasure
from boucle_reporter.domain.projection.write import Write, set_path
from boucle_reporter.domain.retention import (
    SUBJECT_REQUEST,
    Erasure,
    retention_reason,
)
from boucle_reporter.domain.signing import Signer, signed_verification

Document = dict[str, Any]


class InMemoryEvidenceLog:
    def __init__(self, *, signer: Signer | None = None) -> None:
        self.entries: dict[str, list[ChainEntry]] = {}
        self.verifications: dict[str, Verification] = {}
        self.subjects: dict[tuple[str, int], list[str]] = {}
        self.times: dict[tuple[str, int], datetime] = {}
        self.erased: dict[tuple[str, str, str], int] = {}  # (network, day, reason) -> entries
        self.signer = signer

    async def append(self, *, event: AnyEvent) -> tuple[int, bool]:
        chain = self.entries.setdefault(event.network_id, [])
        found = next((e for e in chain if e.event_id == event.id), None)
        if found:
            return found.seq, False
        previous = chain[-1].hash if chain else ChainHead().hash
        document = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        chain.append(
            seal(
                network_id=event.network_id,
                seq=len(chain) + 1,
                previous_hash=previous,
                event=document,
            )
        )
        place = (event.network_id, len(chain))
        self.times[place] = event.time
        if subjects := subjects_of(document):
            self.subjects[place] = subjects
        return len(chain), True

    async def verify(
        self, *, network_id: str, anchors: Mapping[int, str] | None = None
    ) -> Verification:
        chain = self.entries.get(network_id, [])
        head = ChainHead(chain[-1].seq, chain[-1].hash) if chain else None
        result = verify_chain(network_id, chain, head, anchors)
        self.verifications[network_id] = signed_verification(result, self.signer)
        return self.verifications[network_id]

    async def erase_subject(
        self, *, network_id: str, subject: str, now: datetime
    ) -> SubjectErasure:
        chain = self.entries.get(network_id, [])
        count, version_1, complaints = 0, 0, set[str]()
        for index, entry in enumerate(chain):
            place = (network_id, entry.seq)
            if subject not in self.subjects.get(place, ()):
                continue
            if entry.version < 2:
                version_1 += 1
                continue
            if entry.body is not None:
                complaint = json.loads(entry.body).get("data", {}).get("complaint_id")
                complaints |= {complaint} if isinstance(complaint, str) else set()
            chain[index] = erased(entry, at=now, reason=SUBJECT_REQUEST)
            del self.subjects[place]
            count += 1
        self._count(network_id, now, SUBJECT_REQUEST, count)
        return SubjectErasure(count, version_1, tuple(sorted(complaints)))

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
        count = 0
        for network, chain in self.entries.items():
            for index, entry in enumerate(chain):
                place = (network, entry.seq)
                if count >= limit or entry.version < 2 or entry.body is None:
                    continue
                if (entry.event_type in types) == exclude or self.times[place] >= before:
                    continue
                chain[index] = erased(entry, at=now, reason=retention_reason(family))
                self.subjects.pop(place, None)
                self._count(network, now, retention_reason(family), 1)
                count += 1
        return count

    def _count(self, network: str, now: datetime, reason: str, entries: int) -> None:
        if entries:
            day = (network, now.date().isoformat(), reason)
            self.erased[day] = self.erased.get(day, 0) + entries

    async def erasures(self, *, network_id: str) -> list[Erasure]:
        found = [
            Erasure(network, day, reason, n)
            for (network, day, reason), n in self.erased.items()
            if network == network_id
        ]
        return sorted(found, key=lambda e: (e.day, e.reason))

    async def links(self, *, network_id: str, until_seq: int) -> AsyncIterator[ChainEntry]:
        for entry in list(self.entries_of(network_id)):
            if entry.seq > until_seq:
                break
            yield entry

    def entries_of(self, network_id: str) -> list[ChainEntry]:
        return sorted(self.entries.get(network_id, []), key=lambda e: e.seq)

    async def head(self, *, network_id: str) -> ChainHead:
        chain = self.entries.get(network_id, [])
        return ChainHead(chain[-1].seq, chain[-1].hash) if chain else ChainHead()

    async def last_verification(self, *, network_id: str) -> Verification | None:
        return self.verifications.get(network_id)


def _get(document: Document, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


class InMemoryReadModel:
    def __init__(self) -> None:
        self.collections: dict[str, dict[str, Document]] = {}

    async def apply(self, writes: Sequence[Write]) -> None:
        for write in writes:
            self._apply(write)

    def _apply(self, write: Write) -> None:
        collection = self.collections.setdefault(write.collection, {})
        stored = collection.get(write.key)
        if write.newer_than and stored is not None:
            name, value = write.newer_than
            current = _get(stored, name)
            if current is None or current >= value:
                return  # MongoDB: no match, the upsert collides on _id, ignored
        if stored is None:
            collection[write.key] = copy.deepcopy(write.new_document())
            return
        for path, value in write.fields.items():
            set_path(stored, path, copy.deepcopy(value))
        if write.newer_than:
            set_path(stored, *write.newer_than)
        for path, amount in write.increments.items():
            set_path(stored, path, (_get(stored, path) or 0) + amount)
        for path, members in write.members.items():
            present = _get(stored, path) or []
            set_path(stored, path, present + [m for m in members if m not in present])

    async def anonymise_complaints(
        self, *, network_id: str, complaint_ids: Sequence[str], now: datetime
    ) -> int:
        changed = 0
        for doc in self.collections.get("complaints", {}).values():
            if doc.get("network_id") == network_id and doc.get("complaint_id") in complaint_ids:
                doc.update(subject="", anonymised_at=now)
                changed += 1
        for doc in self.collections.get("cases", {}).values():
            if doc.get("network_id") == network_id and doc.get("source_ref") in complaint_ids:
                doc.update(summary="", answer="", anonymised_at=now)
                changed += 1
        return changed

    async def documents(
        self,
        collection: str,
        *,
        network_id: str,
        sites: Sequence[str] = (),
        month_from: str | None = None,
        month_to: str | None = None,
    ) -> AsyncIterator[Document]:
        for doc in list(self.collections.get(collection, {}).values()):
            if doc.get("network_id") != network_id or (sites and doc.get("site_id") not in sites):
                continue
            month = doc.get("month")
            if month_from and (month is None or month < month_from):
                continue
            if month_to and (month is None or month > month_to):
                continue
            yield copy.deepcopy(doc)


class InMemoryBuildStore:
    def __init__(self) -> None:
        self.builds: dict[str, Build] = {}

    async def save(self, build: Build) -> None:
        self.builds[build.build_id] = copy.deepcopy(build)

    async def get(self, build_id: str) -> Build | None:
        build = self.builds.get(build_id)
        return copy.deepcopy(build) if build else None

    async def recent(self, *, network_id: str, limit: int = 20) -> list[Build]:
        found = [b for b in self.builds.values() if b.network_id == network_id]
        return sorted(found, key=lambda b: b.requested_at, reverse=True)[:limit]

    async def unfinished(self) -> list[Build]:
        return [copy.deepcopy(b) for b in self.builds.values() if b.status in UNFINISHED]
