"""Incidents family, major version 1: complaints, hazards and difficulties (indicator 31)."""

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
    StakeholderRole,
    Timestamp,
    TrainingRef,
)
from boucle_contracts.envelope import Envelope, data_schema, event_type

FAMILY = "incidents"
TOPIC = "boucle.incidents.v1"


class ReceptionChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WEB_FORM = "web_form"
    SURVEY = "survey"
    LETTER = "letter"
    IN_PERSON = "in_person"
    FUNDER_PLATFORM = "funder_platform"  # e.g. EDOF / Mon Compte Formation
    OTHER = "other"


class IncidentKind(StrEnum):
    HAZARD = "hazard"  # aléa: an unplanned event (trainer absent, room unavailable, outage)
    DIFFICULTY = "difficulty"  # difficulté: a problem met during the training


class ComplaintReceived(ContractModel):
    EVENT_NAME: ClassVar[str] = "complaint_received"

    complaint_id: Identifier
    received_at: Timestamp
    channel: ReceptionChannel
    complainant_role: StakeholderRole
    complainant_ref: Identifier | None = Field(
        default=None, description="Pseudonymous reference, never a name."
    )
    subject: ShortText
    description: LongText
    category_hint: DimensionSlug | None = Field(
        default=None, description="Category given at intake, if any."
    )
    training: TrainingRef = TrainingRef()


class HazardReported(ContractModel):
    EVENT_NAME: ClassVar[str] = "hazard_reported"

    incident_id: Identifier
    kind: IncidentKind
    occurred_at: Timestamp
    reported_at: Timestamp
    reported_by_role: StakeholderRole
    summary: ShortText
    description: LongText | None = None
    learners_affected: int | None = Field(default=None, ge=0)
    category_hint: DimensionSlug | None = None
    training: TrainingRef = TrainingRef()


class ComplaintReceivedV1(Envelope[ComplaintReceived]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ComplaintReceived.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ComplaintReceived.EVENT_NAME, 1)
    type: Literal["fr.boucle.incidents.complaint_received.v1"]


class HazardReportedV1(Envelope[HazardReported]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, HazardReported.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, HazardReported.EVENT_NAME, 1)
    type: Literal["fr.boucle.incidents.hazard_reported.v1"]


EVENTS = (ComplaintReceivedV1, HazardReportedV1)
