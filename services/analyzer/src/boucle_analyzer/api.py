"""Query API: figures and KPIs, degradations and emerging terms, per network.

Every route needs a bearer JWT (``boucle_runtime.auth``) and answers only what the caller
may read (``boucle_analyzer.access``): 401 without a valid token, 403 with a valid one that
does not reach what is asked.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations at run
# time, and the caller's type is local to ``query_router``.
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from boucle_analyzer import access
from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.domain.ports import CommentStore, DegradationStore, FigureQuery, FigureReader
from boucle_analyzer.domain.themes import emerging_terms
from boucle_contracts.common import Identifier
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation
from boucle_runtime.auth import Principal

WEEK = timedelta(days=7)
CurrentPrincipal = Callable[..., Awaitable[Principal]]


class DegradationView(BaseModel):
    degradation_id: str
    scope: Scope
    metric: Metric
    dimension: str | None
    status: Literal["open", "resolved"]
    opened_week: datetime
    resolved_week: datetime | None
    baseline: Observation
    current: Observation

    @classmethod
    def of(cls, degradation: Degradation) -> "DegradationView":
        return cls(
            degradation_id=degradation.degradation_id,
            scope=degradation.scope,
            metric=degradation.metric,
            dimension=degradation.dimension,
            status="open" if degradation.open else "resolved",
            opened_week=degradation.opened_week,
            resolved_week=degradation.resolved_week,
            baseline=degradation.baseline,
            current=degradation.current,
        )


class EmergingTermView(BaseModel):
    stem: str
    current: int
    baseline: int
    ratio: float
    p_value: float
    adjusted_p_value: float


class EmergingTerms(BaseModel):
    scope_key: str
    current_comments: int
    baseline_comments: int
    period_start: datetime
    period_end: datetime
    terms: list[EmergingTermView]


async def _stem_counts(
    comments: CommentStore,
    caller: Principal,
    *,
    network_id: str,
    scope_key: str,
    start: datetime,
    end: datetime,
) -> tuple[Counter[str], int]:
    """Stem counts of ``[start, end)`` cut to the caller's period (nothing outside it)."""
    since, until = access.within_period(caller, start, end)
    if since is None or until is None or until <= since:
        return Counter(), 0
    return await comments.stem_counts(
        network_id=network_id, scope_key=scope_key, start=since, end=until
    )


def query_router(
    *,
    figures: FigureReader,
    degradations: DegradationStore,
    comments: CommentStore,
    principal: CurrentPrincipal,
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["queries"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.get("/figures", summary="Figures and KPIs per scope and period (trends)")
    async def list_figures(
        *,
        network_id: Identifier,
        caller: caller_t,
        granularity: Granularity = Granularity.MONTH,
        level: ScopeLevel | None = None,
        site_id: Identifier | None = None,
        programme_id: Identifier | None = None,
        trainer_id: Identifier | None = None,
        period_from: Annotated[
            AwareDatetime | None, Query(alias="from", description="Periods starting from then")
        ] = None,
        period_to: Annotated[
            AwareDatetime | None, Query(alias="to", description="Periods starting before then")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[ScopeMetricsUpdated]:
        query = FigureQuery(
            network_id=network_id,
            granularity=granularity,
            start=period_from,
            end=period_to,
            level=level,
            site_id=site_id,
            programme_id=programme_id,
            trainer_id=trainer_id,
            limit=limit,
        )
        return await figures.figures(query=access.figure_query(caller, query))

    @router.get("/degradations", summary="Degradations, open or all")
    async def list_degradations(
        network_id: Identifier, caller: caller_t, status: Literal["open", "all"] = "open"
    ) -> list[DegradationView]:
        caller.require_network(network_id)
        found = await degradations.degradations(network_id=network_id, open_only=status == "open")
        return [
            DegradationView.of(d) for d in found if access.may_read(caller, d.scope, d.opened_week)
        ]

    @router.get("/emerging-terms", summary="Comment stems whose frequency rose vs the baseline")
    async def list_emerging_terms(
        *,
        network_id: Identifier,
        caller: caller_t,
        site_id: Identifier | None = None,
        until: AwareDatetime | None = None,
        weeks: Annotated[int, Query(ge=1, le=26)] = 4,
        baseline_weeks: Annotated[int, Query(ge=1, le=104)] = 12,
        min_count: Annotated[int, Query(ge=1)] = 5,
    ) -> EmergingTerms:
        access.require_terms_scope(caller, network_id, site_id)
        scope = (
            Scope(level=ScopeLevel.SITE, network_id=network_id, site_id=site_id)
            if site_id
            else Scope(level=ScopeLevel.NETWORK, network_id=network_id)
        )
        end = until or datetime.now(UTC)
        if caller.period_end is not None:  # an auditor: nothing after their period
            end = min(end, caller.period_end)
        start = end - weeks * WEEK
        key = scope.key()
        current, current_n = await _stem_counts(
            comments, caller, network_id=network_id, scope_key=key, start=start, end=end
        )
        baseline, baseline_n = await _stem_counts(
            comments,
            caller,
            network_id=network_id,
            scope_key=key,
            start=start - baseline_weeks * WEEK,
            end=start,
        )
        terms = emerging_terms(current, current_n, baseline, baseline_n, min_count=min_count)
        return EmergingTerms(
            scope_key=key,
            current_comments=current_n,
            baseline_comments=baseline_n,
            period_start=start,
            period_end=end,
            terms=[
                EmergingTermView(
                    stem=t.stem,
                    current=t.current,
                    baseline=t.baseline,
                    ratio=t.ratio,
                    p_value=t.p_value,
                    adjusted_p_value=t.adjusted_p_value,
                )
                for t in terms
            ],
        )

    return router
