"""The actions service's subject index and the blanking of case texts, in MongoDB.

``case_subjects``: one document per (network, subject, case), ``_id`` joining them, written
once. Blanking a case is one single-document update conditioned on the revision read, and
moves the revision on: a person saving a case they loaded before the erasure gets a
conflict, instead of writing the old text back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from boucle_actions.erasure import ERASED, CaseSubject
from boucle_runtime.mongo import insert_once

Document = dict[str, Any]
SUBJECTS = "case_subjects"
CASES = "cases"
RETENTION_BATCH = 500


def blanked(case: Document, now: datetime) -> Document:
    """The fields that replace a case's words: the summary, and any answer, root cause or
    note written, reads ``ERASED``; nothing else changes but the revision."""
    history = [
        {**entry, "note": None if entry.get("note") is None else ERASED}
        for entry in case.get("history", [])
    ]
    return {
        "summary": ERASED,
        "answer": None if case.get("answer") is None else ERASED,
        "root_cause": None if case.get("root_cause") is None else ERASED,
        "history": history,
        "erased_at": now,
        "revision": int(case.get("revision", 1)) + 1,
    }


class MongoCaseSubjects:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._subjects = client[database][SUBJECTS]

    async def create_indexes(self) -> None:
        await self._subjects.create_index(
            [("network_id", ASCENDING), ("subject", ASCENDING)], name="subject"
        )
        await self._subjects.create_index([("case_id", ASCENDING)], name="case")

    async def remember(self, entry: CaseSubject) -> None:
        await insert_once(
            self._subjects,
            {
                "_id": f"{entry.network_id}|{entry.subject}|{entry.case_id}",
                "network_id": entry.network_id,
                "subject": entry.subject,
                "case_id": entry.case_id,
                "at": entry.at,
            },
        )

    async def case_ids(self, *, network_id: str, subject: str) -> list[str]:
        cursor = self._subjects.find({"network_id": network_id, "subject": subject}, {"case_id": 1})
        return [doc["case_id"] async for doc in cursor]

    async def forget(self, *, network_id: str, subject: str) -> int:
        result = await self._subjects.delete_many({"network_id": network_id, "subject": subject})
        return result.deleted_count

    async def forget_cases(self, *, case_ids: Sequence[str]) -> int:
        if not case_ids:
            return 0
        result = await self._subjects.delete_many({"case_id": {"$in": list(case_ids)}})
        return result.deleted_count


class MongoCaseTexts:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._cases = client[database][CASES]

    async def _blank(self, case: Document, now: datetime) -> bool:
        result = await self._cases.update_one(
            {"_id": case["_id"], "revision": case.get("revision", 1)},
            {"$set": blanked(case, now)},
        )
        return result.modified_count == 1

    async def blank(self, *, network_id: str, case_ids: Sequence[str], now: datetime) -> int:
        if not case_ids:
            return 0
        cursor = self._cases.find({"network_id": network_id, "_id": {"$in": list(case_ids)}})
        return sum([await self._blank_current(doc, now) async for doc in cursor])

    async def _blank_current(self, case: Document | None, now: datetime) -> int:
        # A write that moved the revision meanwhile: read the case again and blank that.
        while case is not None:
            if await self._blank(case, now):
                return 1
            case = await self._cases.find_one({"_id": case["_id"]})
        return 0

    async def blank_closed_before(self, *, before: datetime, now: datetime) -> list[str]:
        cursor = self._cases.find(
            {"closed_at": {"$ne": None, "$lt": before}, "erased_at": {"$exists": False}}
        ).limit(RETENTION_BATCH)
        done = []
        for case in [doc async for doc in cursor]:
            if await self._blank(case, now):  # else changed meanwhile: the next round
                done.append(str(case["_id"]))
        return done
