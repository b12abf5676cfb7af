"""Problems family, major version 1: degradations grouped by their shared cause.

A problem groups the degradations (``boucle.signals.v1``) that one cause explains: the same
scope hierarchy (network ⊃ site ⊃ programme or trainer at the site), overlapping weeks,
related metrics and dimensions. It is attributed to the most specific scope that explains
it: one or several sites, else a programme or a trainer at a site, else the network. It
is open while any of its degradations is open; its events are published by the analyzer
after the degradation events of the same week, with ids derived from the problem id, the
transition and the week. Degradation events stay as they are (compatibility).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from boucle_contracts.common import ContractModel, DimensionSlug, Identifier, ShortText, Timestamp
from boucle_contracts.envelope import Envelope, data_schema, event_type
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import Metric, Observation, Severity, StatisticalTest, ThemeShare

FAMILY = "problems"
TOPIC = "boucle.problems.v1"


class ProblemDegradation(ContractModel):
    """One degradation grouped in the problem, with its figures and tests."""

    degradation_id: Identifier
    scope: Scope = Field(description="The degradation's scope, narrowed to its dimension.")
    metric: Metric
    dimension: DimensionSlug | None = None
    opened_week: Timestamp = Field(description="Monday (UTC) of the week it opened.")
    baseline: Observation
    current: Observation
    tests: tuple[StatisticalTest, ...] = Field(
        default=(), description="As in degradation_detected: adjusted p-values included."
    )
    severity: Severity


class ProblemState(ContractModel):
    """What a problem is, as of the week of the event."""

    problem_id: Identifier
    scopes: tuple[Scope, ...] = Field(
        min_length=1,
        description=(
            "Attributed scopes: one or several sites; else a programme or a trainer at a "
            "site; the network only when no site explains it."
        ),
    )
    degradation_ids: tuple[Identifier, ...] = Field(
        min_length=1, description="The open degradations grouped in the problem."
    )
    degradations: tuple[ProblemDegradation, ...] = Field(
        default=(), description="The same degradations with their observations and tests."
    )
    metrics: tuple[Metric, ...] = ()
    dimensions: tuple[DimensionSlug, ...] = ()
    severity: Severity
    opened_week: Timestamp = Field(description="Monday (UTC) of the week the problem opened.")
    detected_at: Timestamp = Field(description="End of the week it opened (data time).")
    themes: tuple[ThemeShare, ...] = Field(
        default=(), description="Themes of the negative comments in the attributed scopes."
    )
    example_comment_ids: tuple[Identifier, ...] = Field(
        default=(), max_length=5, description="Up to 5 pseudonymised comment ids."
    )
    complaint_ids: tuple[Identifier, ...] = Field(
        default=(), description="Complaints received in the attributed scopes and weeks."
    )
    hazard_ids: tuple[Identifier, ...] = Field(
        default=(),
        description="Hazards in the same scopes and weeks, when the producer knows their ids.",
    )
    emerging_terms: tuple[ShortText, ...] = Field(
        default=(), description="Terms that rose in the comments, when available."
    )


class ProblemOpened(ProblemState):
    EVENT_NAME: ClassVar[str] = "problem_opened"


class ProblemUpdated(ProblemState):
    EVENT_NAME: ClassVar[str] = "problem_updated"

    updated_at: Timestamp = Field(description="End of the week of the change (data time).")
    joined_degradation_ids: tuple[Identifier, ...] = ()
    left_degradation_ids: tuple[Identifier, ...] = Field(
        default=(), description="Degradations resolved, hence no longer in the problem."
    )


class ProblemResolved(ContractModel):
    EVENT_NAME: ClassVar[str] = "problem_resolved"

    problem_id: Identifier
    scopes: tuple[Scope, ...] = Field(min_length=1)
    degradation_ids: tuple[Identifier, ...] = Field(
        default=(), description="The degradations resolved last."
    )
    opened_week: Timestamp
    resolved_at: Timestamp = Field(description="End of the week it resolved (data time).")


class ProblemOpenedV1(Envelope[ProblemOpened]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ProblemOpened.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ProblemOpened.EVENT_NAME, 1)
    type: Literal["fr.boucle.problems.problem_opened.v1"]


class ProblemUpdatedV1(Envelope[ProblemUpdated]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ProblemUpdated.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ProblemUpdated.EVENT_NAME, 1)
    type: Literal["fr.boucle.problems.problem_updated.v1"]


class ProblemResolvedV1(Envelope[ProblemResolved]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ProblemResolved.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ProblemResolved.EVENT_NAME, 1)
    type: Literal["fr.boucle.problems.problem_resolved.v1"]


EVENTS = (ProblemOpenedV1, ProblemUpdatedV1, ProblemResolvedV1)
