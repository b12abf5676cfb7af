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

from boucle_contracts.common import (
    ContractModel,
    DimensionSlug,
    Identifier,
    Period,
    RespondentRole,
)
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


class NpsFigures(ContractModel):
    """Answers to the likelihood-to-recommend question (0-10): 9-10, 7-8 and 0-6."""

    promoters: int = Field(default=0, ge=0)
    passives: int = Field(default=0, ge=0)
    detractors: int = Field(default=0, ge=0)

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """Net Promoter Score, from -100 to 100."""
        total = self.answers
        return 100.0 * (self.promoters - self.detractors) / total if total else None


class RoleFigures(ContractModel):
    """One respondent role (stakeholder type of indicator 30): responses, overall ratings, NPS."""

    role: RespondentRole
    responses: int = Field(ge=0)
    overall_count: int = Field(default=0, ge=0, description="Overall ratings (1-5 scale).")
    overall_total: float = 0.0
    overall_total_squares: float = Field(default=0.0, ge=0)
    overall_satisfied: int = Field(default=0, ge=0, description="Overall ratings of 4 or 5.")
    nps: NpsFigures = NpsFigures()


class CountByLabel(ContractModel):
    label: DimensionSlug
    count: int = Field(ge=0)


class ScopeKpis(ContractModel):
    """Figures derived from the exact counts of the same event; ``None`` when not computable.

    Denominators: learners are the enrolments recorded in the scope and period.
    """

    mean_satisfaction: float | None = Field(
        default=None, description="Mean of the overall ratings on the 1-5 scale."
    )
    satisfaction_rate: float | None = Field(
        default=None, ge=0, le=1, description="Share of overall ratings of 4 or 5."
    )
    nps: float | None = Field(default=None, ge=-100, le=100)
    learner_response_rate: float | None = Field(
        default=None, ge=0, description="Learner responses per enrolment (may exceed 1)."
    )
    complaints_per_100_learners: float | None = Field(default=None, ge=0)
    dropout_rate: float | None = Field(
        default=None, ge=0, description="Dropouts per enrolment of the period."
    )


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
    # Added in 1.1 (all optional): NPS, per-role figures, incidents and training counts.
    nps: NpsFigures = NpsFigures()
    by_role: tuple[RoleFigures, ...] = ()
    complaints: int = Field(default=0, ge=0)
    complaints_by_role: tuple[CountByLabel, ...] = Field(
        default=(), description="Complaints by complainant role (stakeholder type)."
    )
    hazards: int = Field(default=0, ge=0, description="Hazards and difficulties reported.")
    enrolments: int = Field(default=0, ge=0)
    sessions_completed: int = Field(default=0, ge=0)
    learners_completed: int = Field(default=0, ge=0)
    dropouts: int = Field(default=0, ge=0)
    dropout_reasons: tuple[CountByLabel, ...] = ()
    negative_comments: int = Field(
        default=0, ge=0, description="Negative free comments and complaint texts."
    )
    comment_themes: tuple[CountByLabel, ...] = Field(
        default=(), description="Negative comments and complaint texts per taxonomy theme."
    )
    kpis: ScopeKpis | None = None

    @property
    def key(self) -> str:
        return metrics_key(self.scope, self.granularity, self.period)


class ScopeMetricsUpdatedV1(Envelope[ScopeMetricsUpdated]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ScopeMetricsUpdated.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ScopeMetricsUpdated.EVENT_NAME, 1)
    type: Literal["fr.boucle.metrics.scope_metrics_updated.v1"]


EVENTS = (ScopeMetricsUpdatedV1,)
