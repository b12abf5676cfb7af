"""Cases family, major version 1: complaint and incident case lifecycle (indicator 31)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from boucle_contracts.common import (
    ContractModel,
    DimensionSlug,
    Identifier,
    LongText,
    ShortText,
    Timestamp,
)
from boucle_contracts.envelope import Envelope, data_schema, event_type

FAMILY = "cases"
TOPIC = "boucle.cases.v1"


class CaseSource(StrEnum):
    COMPLAINT = "complaint"
    HAZARD = "hazard"
    DIFFICULTY = "difficulty"


class CaseStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ANALYSED = "analysed"
    ESCALATED = "escalated"
    IN_MEDIATION = "in_mediation"
    ANSWERED = "answered"
    CLOSED = "closed"


class ComplaintCaseOpened(ContractModel):
    EVENT_NAME: ClassVar[str] = "complaint_case_opened"

    case_id: Identifier
    source: CaseSource
    source_event_id: Identifier = Field(
        description="The ComplaintReceived or HazardReported event."
    )
    source_ref: Identifier = Field(description="complaint_id or incident_id")
    opened_at: Timestamp
    summary: ShortText
    category: DimensionSlug | None = None
    acknowledge_due_at: Timestamp | None = None
    answer_due_at: Timestamp | None = None


class ComplaintCaseTransitioned(ContractModel):
    EVENT_NAME: ClassVar[str] = "complaint_case_transitioned"

    case_id: Identifier
    from_status: CaseStatus
    to_status: CaseStatus
    at: Timestamp
    actor: Identifier
    revision: int = Field(ge=1)
    note: LongText | None = None
    answer: LongText | None = Field(
        default=None, description="Answer given to the complainant (to ANSWERED)."
    )
    root_cause: LongText | None = None
    action_ids: tuple[Identifier, ...] = Field(
        default=(), description="Improvement actions the case led to."
    )
    recorded_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the act was recorded, if after the fact; ``at`` is when it happened. "
            "Absent from producers before 1.1."
        ),
    )


class ComplaintCaseOverdue(ContractModel):
    EVENT_NAME: ClassVar[str] = "complaint_case_overdue"

    case_id: Identifier
    deadline: Literal["acknowledge", "answer"]
    due_at: Timestamp
    detected_at: Timestamp


class ComplaintCaseOpenedV1(Envelope[ComplaintCaseOpened]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ComplaintCaseOpened.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ComplaintCaseOpened.EVENT_NAME, 1)
    type: Literal["fr.boucle.cases.complaint_case_opened.v1"]


class ComplaintCaseTransitionedV1(Envelope[ComplaintCaseTransitioned]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ComplaintCaseTransitioned.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ComplaintCaseTransitioned.EVENT_NAME, 1)
    type: Literal["fr.boucle.cases.complaint_case_transitioned.v1"]


class ComplaintCaseOverdueV1(Envelope[ComplaintCaseOverdue]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ComplaintCaseOverdue.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ComplaintCaseOverdue.EVENT_NAME, 1)
    type: Literal["fr.boucle.cases.complaint_case_overdue.v1"]


EVENTS = (ComplaintCaseOpenedV1, ComplaintCaseTransitionedV1, ComplaintCaseOverdueV1)
