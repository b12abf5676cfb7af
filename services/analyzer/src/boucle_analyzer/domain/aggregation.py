"""What one survey response adds to which aggregates. Pure: no I/O, no framework."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from boucle_analyzer.domain.ratings import MILLI, is_satisfied, to_five_point, to_milli
from boucle_contracts.common import Period
from boucle_contracts.feedback.v1 import ScaleAnswer, SurveyResponseSubmitted
from boucle_contracts.metrics.v1 import DimensionFigures, Granularity, metrics_key
from boucle_contracts.scope import Scope, ScopeLevel


@dataclass(frozen=True, slots=True)
class DimensionDelta:
    """Exact integer sums: ratings in thousandths of a point, squares in millionths."""

    count: int
    total_milli: int
    squares_micro: int
    satisfied: int

    @property
    def total(self) -> float:
        return self.total_milli / MILLI

    @property
    def total_squares(self) -> float:
        return self.squares_micro / (MILLI * MILLI)


@dataclass(frozen=True, slots=True)
class AggregateDelta:
    """Increments to one aggregate: a scope over one period."""

    scope: Scope
    granularity: Granularity
    period: Period
    responses: int
    dimensions: dict[str, DimensionDelta] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return metrics_key(self.scope, self.granularity, self.period)


def figures_of(dimension: str, sums: DimensionDelta) -> DimensionFigures:
    """The contract's view of a dimension's exact sums."""
    return DimensionFigures(
        dimension=dimension,
        count=sums.count,
        total=sums.total,
        total_squares=sums.total_squares,
        satisfied=sums.satisfied,
    )


def period_of(moment: datetime, granularity: Granularity) -> Period:
    """Calendar period in UTC: day, ISO week (from Monday) or month."""
    moment = moment.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if granularity is Granularity.DAY:
        return Period(start=day, end=day + timedelta(days=1))
    if granularity is Granularity.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(start=start, end=start + timedelta(days=7))
    start = day.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return Period(start=start, end=end)


def scopes_of(
    network_id: str, site_id: str | None, response: SurveyResponseSubmitted
) -> list[Scope]:
    """Network, site, programme within the site, and each trainer within the network."""
    scopes = [Scope(level=ScopeLevel.NETWORK, network_id=network_id)]
    if site_id:
        scopes.append(Scope(level=ScopeLevel.SITE, network_id=network_id, site_id=site_id))
        if response.training.programme_id:
            scopes.append(
                Scope(
                    level=ScopeLevel.PROGRAMME,
                    network_id=network_id,
                    site_id=site_id,
                    programme_id=response.training.programme_id,
                )
            )
    scopes += [
        Scope(level=ScopeLevel.TRAINER, network_id=network_id, trainer_id=trainer)
        for trainer in dict.fromkeys(response.training.trainer_ids)
    ]
    return scopes


def dimension_deltas(response: SurveyResponseSubmitted) -> dict[str, DimensionDelta]:
    """Each rated answer counts once for its dimension ("overall" when the form gave none)."""
    ratings: dict[str, list[int]] = defaultdict(list)
    for answer in response.answers:
        if isinstance(answer, ScaleAnswer):
            ratings[answer.dimension or "overall"].append(to_milli(to_five_point(answer)))
    return {
        dimension: DimensionDelta(
            count=len(values),
            total_milli=sum(values),
            squares_micro=sum(v * v for v in values),
            satisfied=sum(1 for v in values if is_satisfied(v / MILLI)),
        )
        for dimension, values in ratings.items()
    }


def deltas_for(
    network_id: str,
    site_id: str | None,
    response: SurveyResponseSubmitted,
    granularities: tuple[Granularity, ...] = tuple(Granularity),
) -> list[AggregateDelta]:
    dimensions = dimension_deltas(response)
    return [
        AggregateDelta(
            scope=scope,
            granularity=granularity,
            period=period_of(response.submitted_at, granularity),
            responses=1,
            dimensions=dimensions,
        )
        for scope in scopes_of(network_id, site_id, response)
        for granularity in granularities
    ]
