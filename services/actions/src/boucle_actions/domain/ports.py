"""Storage the actions service needs, as Protocols (MongoDB in production, fakes in tests)."""

from __future__ import annotations

from typing import Protocol

from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated


class CaseRepository(Protocol):
    async def open(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        """Store the case unless it exists; either way it stays unannounced until marked."""
        ...

    async def unannounced(self, *, case_id: str) -> bool: ...

    async def mark_announced(self, *, case_id: str) -> None: ...

    async def list_for(
        self, *, network_id: str, site_id: str | None = None
    ) -> list[ComplaintCaseOpened]: ...


class KpiRepository(Protocol):
    async def keep_latest(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        """Store the snapshot if its revision is newer than the stored one."""
        ...

    async def snapshots_for(
        self, *, network_id: str, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]: ...
