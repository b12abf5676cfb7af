"""In-memory subject index and case texts, for unit tests (cases as stored documents)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from boucle_actions.adapters.mongo_erasure import blanked
from boucle_actions.erasure import CaseSubject


class InMemoryCaseSubjects:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], CaseSubject] = {}

    async def remember(self, entry: CaseSubject) -> None:
        self.entries.setdefault((entry.network_id, entry.subject, entry.case_id), entry)

    async def case_ids(self, *, network_id: str, subject: str) -> list[str]:
        return [k[2] for k in self.entries if k[:2] == (network_id, subject)]

    async def forget(self, *, network_id: str, subject: str) -> int:
        keys = [k for k in self.entries if k[:2] == (network_id, subject)]
        for key in keys:
            del self.entries[key]
        return len(keys)

    async def forget_cases(self, *, case_ids: Sequence[str]) -> int:
        keys = [k for k in self.entries if k[2] in case_ids]
        for key in keys:
            del self.entries[key]
        return len(keys)


class InMemoryCaseTexts:
    """Case documents by id, as the repository stores them (``model_dump``)."""

    def __init__(self, documents: dict[str, dict[str, Any]] | None = None) -> None:
        self.documents = documents if documents is not None else {}

    async def blank(self, *, network_id: str, case_ids: Sequence[str], now: datetime) -> int:
        count = 0
        for case_id in case_ids:
            case = self.documents.get(case_id)
            if case is not None and case["network_id"] == network_id:
                case.update(blanked(case, now))
                count += 1
        return count

    async def blank_closed_before(self, *, before: datetime, now: datetime) -> list[str]:
        done = []
        for case_id, case in self.documents.items():
            closed = case.get("closed_at")
            if closed is not None and closed < before and "erased_at" not in case:
                case.update(blanked(case, now))
                done.append(case_id)
        return done
