"""Metrics family, major version 1: the analyzer's figures, per scope and period.

Published whenever an aggregate changes so that actions (effectiveness) and reporter
(charts, analysis evidence) never read the analyzer's database. Each event carries the
exact sums, so consumers derive means and rates without rounding drift. Each event
supersedes the earlier revisions of the same scope and period (``revision`` grows): a
consumer keeps the highest revision it has seen and ignores older ones.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from boucle_contracts.common import ContractModel, DimensionSlug, Identifier, Period
from boucle_contracts.envelope import Envelope, data_schema, event_type
from boucle_contracts.scope import Scope

FAMILY = "metrics"
TOPIC = "boucle.metrics.v1"


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class DimensionFigures(ContractModel):
    """Exact sufficient statistics of one dimension's ratings, normalised to a 1-5 scale."""

    dimension: DimensionSlug
    count: int = Field(ge=0)
    total: float
    total_squares: float = Field(ge=0)
    satisfied: int = Field(ge=0, description="Ratings of 4 or 5 on the 1-5 scale.")

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.count if self.count else None


def metrics_key(scope: Scope, granularity: Granularity, period: Period) -> str:
    """Identity of a scope's figures over a period.

    For example ``net/level:site/site:lyon|month|2026-11-01``.
    """
    return f"{scope.key()}|{granularity.value}|{period.start.date().isoformat()}"


class ScopeMetricsUpdated(ContractModel):
    EVENT_NAME: ClassVar[str] = "scope_metrics_updated"

    scope: Scope
    granularity: Granularity
    period: Period
    responses: int = Field(ge=0, description="Survey responses counted in the period.")
    dimensions: tuple[DimensionFigures, ...] = ()
    revision: int = Field(ge=1, description="Grows with every update of this scope and period.")
    last_event_id: Identifier = Field(description="The input event that produced this revision.")

    @property
    def key(self) -> str:
        return metrics_key(self.scope, self.granularity, self.period)


class ScopeMetricsUpdatedV1(Envelope[ScopeMetricsUpdated]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ScopeMetricsUpdated.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ScopeMetricsUpdated.EVENT_NAME, 1)
    type: Literal["fr.boucle.metrics.scope_metrics_updated.v1"]


EVENTS = (ScopeMetricsUpdatedV1,)
