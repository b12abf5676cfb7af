"""Problems in MongoDB (collection ``problems``).

Single-document writes, by ``_id`` only (FerretDB v1): a problem is replaced whole under its
deterministic problem id, so a re-run of the detection over the same week rewrites the same
document. Resolved problems stay, with ``open: false``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from boucle_analyzer.domain.problems import Member, Problem
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import (
    Metric,
    Observation,
    Severity,
    StatisticalTest,
    ThemeShare,
)

Document = dict[str, Any]
COLLECTION = "problems"


class MongoProblemStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._db: AsyncDatabase[Document] = client[database]
        self._problems = self._db[COLLECTION]

    async def create_indexes(self) -> None:
        await self._problems.create_index(
            [("network_id", ASCENDING), ("open", ASCENDING)], name="network_open"
        )

    async def open_problems(self, *, network_id: str) -> list[Problem]:
        cursor = self._problems.find({"network_id": network_id, "open": True}).sort(
            [("opened_week", ASCENDING), ("_id", ASCENDING)]
        )
        return [problem_of(document) async for document in cursor]

    async def save(self, *, problems: Sequence[Problem]) -> None:
        for problem in problems:
            await self._problems.replace_one(
                {"_id": problem.problem_id}, document_of(problem), upsert=True
            )

    async def problems(self, *, network_id: str, open_only: bool) -> list[Problem]:
        where: Document = {"network_id": network_id}
        if open_only:
            where["open"] = True
        cursor = self._problems.find(where).sort([("opened_week", ASCENDING), ("_id", ASCENDING)])
        return [problem_of(document) async for document in cursor]


def _member_document(member: Member) -> Document:
    return {
        "degradation_id": member.degradation_id,
        "scope": member.scope.model_dump(mode="json", exclude_none=True),
        "metric": member.metric.value,
        "dimension": member.dimension,
        "opened_week": member.opened_week,
        "baseline": member.baseline.model_dump(mode="json"),
        "current": member.current.model_dump(mode="json"),
        "severity": member.severity.value,
        "sites": list(member.sites),
        "tests": [t.model_dump(mode="json") for t in member.tests],
        "themes": [t.model_dump(mode="json") for t in member.themes],
        "example_comment_ids": list(member.example_comment_ids),
    }


def _member(document: Document) -> Member:
    return Member(
        degradation_id=document["degradation_id"],
        scope=Scope.model_validate(document["scope"]),
        metric=Metric(document["metric"]),
        dimension=document.get("dimension"),
        opened_week=document["opened_week"],
        baseline=Observation.model_validate(document["baseline"]),
        current=Observation.model_validate(document["current"]),
        severity=Severity(document["severity"]),
        sites=tuple(document.get("sites", ())),
        tests=tuple(StatisticalTest.model_validate(t) for t in document.get("tests", ())),
        themes=tuple(ThemeShare.model_validate(t) for t in document.get("themes", ())),
        example_comment_ids=tuple(document.get("example_comment_ids", ())),
    )


def document_of(problem: Problem) -> Document:
    return {
        "network_id": problem.network_id,
        "open": problem.open,
        "opened_week": problem.opened_week,
        "resolved_week": problem.resolved_week,
        "members": [_member_document(m) for m in problem.members],
    }


def problem_of(document: Document) -> Problem:
    return Problem(
        problem_id=document["_id"],
        network_id=document["network_id"],
        opened_week=document["opened_week"],
        members=tuple(_member(m) for m in document.get("members", ())),
        resolved_week=document.get("resolved_week"),
    )
