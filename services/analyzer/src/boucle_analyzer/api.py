"""Query API: figures and KPIs, degradation episodes and emerging terms, per network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from boucle_analyzer.domain.detection import Episode
from boucle_analyzer.domain.ports import CommentStore, EpisodeStore, FigureQuery, FigureReader
from boucle_analyzer.domain.themes import emerging_terms
from boucle_contracts.common import Identifier
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation

WEEK = timedelta(days=7)


class EpisodeView(BaseModel):
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
    def of(cls, episode: Episode) -> EpisodeView:
        return cls(
            degradation_id=episode.degradation_id,
            scope=episode.scope,
            metric=episode.metric,
            dimension=episode.dimension,
            status="open" if episode.open else "resolved",
            opened_week=episode.opened_week,
            resolved_week=episode.resolved_week,
            baseline=episode.baseline,
            current=episode.current,
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


def query_router(
    *, figures: FigureReader, episodes: EpisodeStore, comments: CommentStore
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["queries"])

    @router.get("/figures", summary="Figures and KPIs per scope and period (trends)")
    async def list_figures(
        *,
        network_id: Identifier,
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
        return await figures.figures(
            query=FigureQuery(
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
        )

    @router.get("/degradations", summary="Degradation episodes, open or all")
    async def list_degradations(
        network_id: Identifier, status: Literal["open", "all"] = "open"
    ) -> list[EpisodeView]:
        found = await episodes.episodes(network_id=network_id, open_only=status == "open")
        return [EpisodeView.of(e) for e in found]

    @router.get("/emerging-terms", summary="Comment stems whose frequency rose vs the baseline")
    async def list_emerging_terms(
        *,
        network_id: Identifier,
        site_id: Identifier | None = None,
        until: AwareDatetime | None = None,
        weeks: Annotated[int, Query(ge=1, le=26)] = 4,
        baseline_weeks: Annotated[int, Query(ge=1, le=104)] = 12,
        min_count: Annotated[int, Query(ge=1)] = 5,
    ) -> EmergingTerms:
        scope = (
            Scope(level=ScopeLevel.SITE, network_id=network_id, site_id=site_id)
            if site_id
            else Scope(level=ScopeLevel.NETWORK, network_id=network_id)
        )
        end = until or datetime.now(UTC)
        start = end - weeks * WEEK
        key = scope.key()
        current, current_n = await comments.stem_counts(
            network_id=network_id, scope_key=key, start=start, end=end
        )
        baseline, baseline_n = await comments.stem_counts(
            network_id=network_id, scope_key=key, start=start - baseline_weeks * WEEK, end=start
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
