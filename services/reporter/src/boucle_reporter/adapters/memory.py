"""In-memory storage with the MongoDB adapter's semantics: unit tests and local tools."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from typing import Any

from boucle_contracts.registry import AnyEvent
from boucle_reporter.domain.chain import (
    ChainEntry,
    ChainHead,
    Verification,
    seal,
    verify_chain,
)
from boucle_reporter.domain.ports import UNFINISHED, Build
from boucle_reporter.domain.projection import Write, set_path

Document = dict[str, Any]


class InMemoryEvidenceLog:
    def __init__(self) -> None:
        self.entries: dict[str, list[ChainEntry]] = {}
        self.verifications: dict[str, Verification] = {}

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
        return len(chain), True

    async def verify(self, *, network_id: str) -> Verification:
        chain = self.entries.get(network_id, [])
        head = ChainHead(chain[-1].seq, chain[-1].hash) if chain else None
        self.verifications[network_id] = verify_chain(network_id, chain, head)
        return self.verifications[network_id]

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
