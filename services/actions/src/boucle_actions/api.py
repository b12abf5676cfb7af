"""Read endpoints of the actions service (write endpoints and access control: issue 5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from boucle_actions.domain.ports import CaseRepository, KpiRepository
from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN)]


def read_router(*, cases: CaseRepository, kpis: KpiRepository) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["read"])

    @router.get("/cases")
    async def list_cases(
        network_id: NetworkId, site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None
    ) -> list[ComplaintCaseOpened]:
        """Complaint and incident cases of the network (or of one site)."""
        return await cases.list_for(network_id=network_id, site_id=site_id)

    @router.get("/kpis")
    async def list_kpis(
        network_id: NetworkId, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        """Latest analyzer figures per scope and period, as the actions service knows them."""
        return await kpis.snapshots_for(network_id=network_id, scope_key=scope_key)

    return router
