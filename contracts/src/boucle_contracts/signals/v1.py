"""Signals family, major version 1: degradations detected by the analyzer, and their end."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from boucle_contracts.common import (
    ContractModel,
    DimensionSlug,
    Identifier,
    Period,
    ShortText,
    Timestamp,
)
from boucle_contracts.envelope import Envelope, data_schema, event_type
from boucle_contracts.scope import Scope

FAMILY = "signals"
TOPIC = "boucle.signals.v1"


class Metric(StrEnum):
    MEAN_SATISFACTION = "mean_satisfaction"
    SATISFACTION_RATE = "satisfaction_rate"
    NPS = "nps"
    RESPONSE_RATE = "response_rate"
    COMPLAINT_RATE = "complaint_rate"  # complaints per 100 learners
    DROPOUT_RATE = "dropout_rate"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Observation(ContractModel):
    value: float
    sample_size: int = Field(ge=0)
    period: Period


class StatisticalTest(ContractModel):
    name: ShortText = Field(description="e.g. welch_t, two_proportion_z, poisson_rate_ratio")
    statistic: float
    p_value: float = Field(ge=0, le=1)
    adjusted_p_value: float | None = Field(
        default=None, ge=0, le=1, description="After false-discovery control."
    )
    correction: ShortText | None = Field(default=None, description="e.g. benjamini_hochberg")
    comparison: Literal["own_baseline", "network_peers"]


class ThemeShare(ContractModel):
    theme: DimensionSlug
    share: float = Field(
        ge=0, le=1, description="Share of the window's negative comments on this theme."
    )
    comment_count: int = Field(ge=0)


class DegradationDetected(ContractModel):
    EVENT_NAME: ClassVar[str] = "degradation_detected"

    degradation_id: Identifier
    scope: Scope
    metric: Metric
    dimension: DimensionSlug | None = None
    detected_at: Timestamp
    baseline: Observation
    current: Observation
    tests: tuple[StatisticalTest, ...] = Field(min_length=1)
    severity: Severity
    themes: tuple[ThemeShare, ...] = ()
    example_comment_ids: tuple[Identifier, ...] = ()


class DegradationResolved(ContractModel):
    EVENT_NAME: ClassVar[str] = "degradation_resolved"

    degradation_id: Identifier
    scope: Scope
    metric: Metric
    dimension: DimensionSlug | None = None
    resolved_at: Timestamp
    current: Observation


class DegradationDetectedV1(Envelope[DegradationDetected]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, DegradationDetected.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, DegradationDetected.EVENT_NAME, 1)
    type: Literal["fr.boucle.signals.degradation_detected.v1"]


class DegradationResolvedV1(Envelope[DegradationResolved]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, DegradationResolved.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, DegradationResolved.EVENT_NAME, 1)
    type: Literal["fr.boucle.signals.degradation_resolved.v1"]


EVENTS = (DegradationDetectedV1, DegradationResolvedV1)
