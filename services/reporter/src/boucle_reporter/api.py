"""Reporter HTTP API: the tracking table (reports, packs and the dashboard: issue 6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from boucle_contracts.metrics.v1 import Granularity
from boucle_contracts.scope import ScopeLevel
from boucle_reporter.domain.ports import ReadModel
from boucle_reporter.domain.tracking import analysis_row, case_row, to_csv
from boucle_reporter.metrics import ReporterMetrics

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"


def reports_router(*, read_model: ReadModel, metrics: ReporterMetrics) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["reports"])

    @router.get(
        "/tracking-table.csv",
        response_class=Response,
        responses={
            200: {"content": {"text/csv": {}}, "description": "Tableau de suivi, CSV (;) with BOM."}
        },
    )
    async def tracking_table_csv(
        network_id: Annotated[str, Path(pattern=ID_PATTERN)],
        site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    ) -> Response:
        """Tableau de suivi des mesures d'amélioration: cases, actions and analyses."""
        analyses = await read_model.analyses(
            network_id=network_id,
            level=ScopeLevel.SITE,
            granularity=Granularity.MONTH,
            site_id=site_id,
        )
        cases = await read_model.cases(network_id=network_id, site_id=site_id)
        rows = [analysis_row(s) for s in analyses] + [
            case_row(c, site, status) for c, site, status in cases
        ]
        metrics.exports.labels("tracking_table_csv").inc()
        filename = f"tableau-de-suivi-{network_id}.csv"
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return router
