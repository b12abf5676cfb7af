"""``analyses``: a site's figures for one month, latest revision. Pure.

Only the site-level monthly figures over all respondents and dimensions are kept: they
are the monthly analysis rows of the tracking table and the report's series.
"""

from __future__ import annotations

from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdatedV1
from boucle_contracts.scope import ScopeLevel
from boucle_reporter.domain.projection.write import Write
from boucle_reporter.domain.read_model import month_of


def site_month_figures(event: ScopeMetricsUpdatedV1, _seq: int) -> list[Write]:
    snapshot = event.data
    scope = snapshot.scope
    if not (
        snapshot.granularity is Granularity.MONTH
        and scope.level is ScopeLevel.SITE
        and scope.respondent_role is None
        and scope.dimension is None
    ):
        return []
    return [
        Write(
            "analyses",
            snapshot.key,
            fields={
                "network_id": scope.network_id,
                "site_id": scope.site_id,
                "month": month_of(snapshot.period.start),
                "responses": snapshot.responses,
                "dimensions": [d.model_dump(mode="json") for d in snapshot.dimensions],
            },
            newer_than=("revision", snapshot.revision),
        )
    ]
