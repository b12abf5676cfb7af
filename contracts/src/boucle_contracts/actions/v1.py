"""Actions family, major version 1: improvement actions (indicator 32)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from boucle_contracts.common import ContractModel, Identifier, LongText, ShortText, Timestamp
from boucle_contracts.envelope import Envelope, data_schema, event_type
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import Metric, Observation, StatisticalTest

FAMILY = "actions"
TOPIC = "boucle.actions.v1"


class ActionOrigin(StrEnum):
    MANUAL = "manual"
    COMPLAINT_CASE = "complaint_case"
    MEETING = "meeting"
    DEGRADATION = "degradation"


class ActionStatus(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    VALIDATED = "validated"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not_effective"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class SourceRef(ContractModel):
    kind: Literal["complaint", "hazard", "difficulty", "degradation", "meeting", "survey_analysis"]
    ref: Identifier


class StakeholderNotice(ContractModel):
    """Who was told about an action (learners, trainers, funders…), when and how."""

    who: ShortText
    when: Timestamp
    how: ShortText


class KpiTarget(ContractModel):
    metric: Metric
    dimension: Identifier | None = None
    baseline: float | None = None
    target: float


class ImprovementActionCreated(ContractModel):
    EVENT_NAME: ClassVar[str] = "improvement_action_created"

    action_id: Identifier
    origin: ActionOrigin
    sources: tuple[SourceRef, ...] = ()
    title: ShortText
    problem: LongText
    scope: Scope
    status: ActionStatus
    priority: Priority = Priority.MEDIUM
    owner: Identifier | None = None
    due_date: date | None = None
    kpi: KpiTarget | None = None
    created_at: Timestamp
    created_by: Identifier
    # 1.1: what a person wrote when creating it (the tracking table shows each measure)
    measures: tuple[LongText, ...] = Field(default=(), description="The measures decided.")
    objective: LongText | None = None
    root_cause_analysis: LongText | None = None
    case_ids: tuple[Identifier, ...] = Field(
        default=(), description="The complaint or incident cases it answers."
    )
    meeting_id: Identifier | None = Field(
        default=None, description="The analysis meeting that decided it."
    )
    recorded_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the act was recorded, if after the fact; ``created_at`` is when it happened. "
            "Absent from producers before 1.1."
        ),
    )


class ImprovementActionTransitioned(ContractModel):
    EVENT_NAME: ClassVar[str] = "improvement_action_transitioned"

    action_id: Identifier
    from_status: ActionStatus
    to_status: ActionStatus
    at: Timestamp
    actor: Identifier
    revision: int = Field(ge=1)
    note: LongText | None = None
    owner: Identifier | None = None
    due_date: date | None = None
    recorded_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the act was recorded, if after the fact; ``at`` is when it happened. "
            "Absent from producers before 1.1."
        ),
    )


class ImprovementActionEvaluated(ContractModel):
    EVENT_NAME: ClassVar[str] = "improvement_action_evaluated"

    action_id: Identifier
    outcome: Literal["effective", "not_effective", "inconclusive"]
    metric: Metric
    before: Observation
    after: Observation
    test: StatisticalTest | None = None
    evaluated_at: Timestamp
    note: ShortText | None = None
    recorded_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the act was recorded, if after the fact; ``evaluated_at`` is when it happened. "
            "Absent from producers before 1.1."
        ),
    )


class ImprovementActionUpdated(ContractModel):
    """The written fields of an action changed (no status change): who, when, what."""

    EVENT_NAME: ClassVar[str] = "improvement_action_updated"

    action_id: Identifier
    at: Timestamp
    actor: Identifier
    revision: int = Field(ge=1)
    fields: tuple[Identifier, ...] = Field(description="Names of the fields changed.")
    title: ShortText
    owner: Identifier | None = None
    due_date: date | None = None
    priority: Priority = Priority.MEDIUM
    kpi: KpiTarget | None = None
    measures: tuple[LongText, ...] = ()
    root_cause_analysis: LongText | None = None
    objective: LongText | None = Field(default=None, description="1.1: the objective.")
    stakeholders_informed: tuple[StakeholderNotice, ...] = Field(
        default=(), description="1.1: who was told, when and how."
    )
    recorded_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the act was recorded, if after the fact; ``at`` is when it happened. "
            "Absent from producers before 1.1."
        ),
    )


class AnalysisMeetingRecorded(ContractModel):
    """An analysis meeting (réunion d'analyse, bilan de session) was held: evidence of step 2."""

    EVENT_NAME: ClassVar[str] = "analysis_meeting_recorded"

    meeting_id: Identifier
    kind: Literal["analysis", "course_review"]
    held_at: Timestamp
    title: ShortText
    attendees: tuple[ShortText, ...] = Field(description="Ids or roles, not names.")
    data_reviewed: tuple[ShortText, ...] = ()
    decisions: tuple[LongText, ...] = ()
    recorded_by: Identifier


class ImprovementActionCreatedV1(Envelope[ImprovementActionCreated]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ImprovementActionCreated.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ImprovementActionCreated.EVENT_NAME, 1)
    type: Literal["fr.boucle.actions.improvement_action_created.v1"]


class ImprovementActionTransitionedV1(Envelope[ImprovementActionTransitioned]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ImprovementActionTransitioned.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ImprovementActionTransitioned.EVENT_NAME, 1)
    type: Literal["fr.boucle.actions.improvement_action_transitioned.v1"]


class ImprovementActionEvaluatedV1(Envelope[ImprovementActionEvaluated]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ImprovementActionEvaluated.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ImprovementActionEvaluated.EVENT_NAME, 1)
    type: Literal["fr.boucle.actions.improvement_action_evaluated.v1"]


class ImprovementActionUpdatedV1(Envelope[ImprovementActionUpdated]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ImprovementActionUpdated.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ImprovementActionUpdated.EVENT_NAME, 1)
    type: Literal["fr.boucle.actions.improvement_action_updated.v1"]


class AnalysisMeetingRecordedV1(Envelope[AnalysisMeetingRecorded]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, AnalysisMeetingRecorded.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, AnalysisMeetingRecorded.EVENT_NAME, 1)
    type: Literal["fr.boucle.actions.analysis_meeting_recorded.v1"]


EVENTS = (
    ImprovementActionCreatedV1,
    ImprovementActionTransitionedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionUpdatedV1,
    AnalysisMeetingRecordedV1,
)
