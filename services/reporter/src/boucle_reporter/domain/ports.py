"""The reporter's read model, as a Protocol (MongoDB in production, fakes in tests)."""

from __future__ import annotations

from typing import Protocol

from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import ScopeLevel


class ReadModel(Protocol):
    async def record_evidence(self, *, event: AnyEvent) -> bool:
        """Keep the event as evidence; False when it was already recorded."""
        ...

    async def keep_analysis(self, *, snapshot: ScopeMetricsUpdated) -> bool: ...

    async def keep_case(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None: ...

    async def analyses(
        self,
        *,
        network_id: str,
        level: ScopeLevel,
        granularity: Granularity,
        site_id: str | None = None,
    ) -> list[ScopeMetricsUpdated]: ...

    async def cases(
        self, *, network_id: str, site_id: str | None = None
    ) -> list[tuple[ComplaintCaseOpened, str | None, str]]:
        """Cases with their site and current status label."""
        ...
