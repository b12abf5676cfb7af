"""In-memory subject index and comment deletion, for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from boucle_analyzer.adapters.memory import InMemoryCommentStore
from boucle_analyzer.erasure import SubjectEntry


class InMemorySubjectIndex:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], SubjectEntry] = {}

    async def remember(self, entry: SubjectEntry) -> None:
        self.entries.setdefault((entry.network_id, entry.subject, entry.event_id), entry)

    async def comment_ids(self, *, network_id: str, subject: str) -> list[str]:
        return [
            cid
            for e in self.entries.values()
            if (e.network_id, e.subject) == (network_id, subject)
            for cid in e.comment_ids
        ]

    async def forget(self, *, network_id: str, subject: str) -> int:
        keys = [k for k in self.entries if k[:2] == (network_id, subject)]
        for key in keys:
            del self.entries[key]
        return len(keys)

    async def forget_before(self, *, source: str, before: datetime) -> int:
        keys = [k for k, e in self.entries.items() if e.source == source and e.at < before]
        for key in keys:
            del self.entries[key]
        return len(keys)


class InMemoryCommentEraser:
    """Deletes from an ``InMemoryCommentStore``'s records."""

    def __init__(self, store: InMemoryCommentStore) -> None:
        self._store = store

    async def erase(self, *, network_id: str, comment_ids: Sequence[str]) -> int:
        keys = [(network_id, c) for c in comment_ids if (network_id, c) in self._store.records]
        for key in keys:
            del self._store.records[key]
        return len(keys)

    async def erase_before(self, *, source: str, before: datetime) -> int:
        records = self._store.records
        keys = [k for k, r in records.items() if r.source == source and r.at < before]
        for key in keys:
            del records[key]
        return len(keys)
