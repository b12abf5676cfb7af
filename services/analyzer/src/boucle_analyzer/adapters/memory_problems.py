"""An in-memory problem store, for unit tests: it keeps what MongoDB would, round trip
through the same documents included."""

from __future__ import annotations

from collections.abc import Sequence

from boucle_analyzer.adapters.mongo_problems import Document, document_of, problem_of
from boucle_analyzer.domain.problems import Problem


class InMemoryProblemStore:
    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}

    async def open_problems(self, *, network_id: str) -> list[Problem]:
        return await self.problems(network_id=network_id, open_only=True)

    async def save(self, *, problems: Sequence[Problem]) -> None:
        for problem in problems:
            self.documents[problem.problem_id] = {"_id": problem.problem_id, **document_of(problem)}

    async def problems(self, *, network_id: str, open_only: bool) -> list[Problem]:
        found = [
            problem_of(d)
            for d in self.documents.values()
            if d["network_id"] == network_id and (d["open"] or not open_only)
        ]
        return sorted(found, key=lambda p: (p.opened_week, p.problem_id))
