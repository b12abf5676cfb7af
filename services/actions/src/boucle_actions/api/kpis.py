"""The KPI read model: the analyzer's latest figures, as far as the caller may see."""

from typing import Annotated

from fastapi import APIRouter, Depends

from boucle_actions.api.common import CurrentPrincipal, NetworkId, may_read
from boucle_actions.domain.ports import KpiRepository
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated
from boucle_runtime.auth import Principal


def kpi_router(*, kpis: KpiRepository, principal: CurrentPrincipal) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["kpis"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.get("/kpis")
    async def list_kpis(
        network_id: NetworkId, caller: caller_t, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        """Latest analyzer figures per scope and period, as far as the caller may see."""
        caller.require_network(network_id)
        found = await kpis.snapshots_for(network_id=network_id, scope_key=scope_key)
        return [
            snapshot
            for snapshot in found
            if may_read(caller, snapshot.scope.site_id) and caller.in_period(snapshot.period.start)
        ]

    return router
