"""Training family, major version 1: enrolments, completions and dropouts.

They give response rates and dropout rates their denominators.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from boucle_contracts.common import ContractModel, Identifier, LongText, Timestamp, TrainingRef
from boucle_contracts.envelope import Envelope, data_schema, event_type

FAMILY = "training"
TOPIC = "boucle.training.v1"


class FundingSource(StrEnum):
    OPCO = "opco"
    FRANCE_TRAVAIL = "france_travail"
    CPF = "cpf"  # Caisse des Dépôts
    REGION = "region"
    COMPANY = "company"
    SELF = "self"
    OTHER = "other"


class DropoutReason(StrEnum):
    PERSONAL = "personal"
    HEALTH = "health"
    PROFESSIONAL = "professional"  # new job, schedule conflict with work
    FINANCIAL = "financial"
    CONTENT_MISMATCH = "content_mismatch"  # training did not meet expectations or level
    DISSATISFACTION = "dissatisfaction"
    ORGANISATION = "organisation"  # schedules, location, logistics
    FOUND_EMPLOYMENT = "found_employment"
    UNKNOWN = "unknown"
    OTHER = "other"


class EnrolmentRecorded(ContractModel):
    EVENT_NAME: ClassVar[str] = "enrolment_recorded"

    enrolment_id: Identifier
    learner_ref: Identifier = Field(description="Pseudonymous learner reference.")
    enrolled_at: Timestamp
    funding: FundingSource | None = None
    funder_id: Identifier | None = None
    company_id: Identifier | None = None
    training: TrainingRef


class SessionCompleted(ContractModel):
    EVENT_NAME: ClassVar[str] = "session_completed"

    session_id: Identifier
    programme_id: Identifier
    completed_at: Timestamp
    learners_enrolled: int = Field(ge=0)
    learners_completed: int = Field(ge=0)
    trainer_ids: tuple[Identifier, ...] = ()

    @model_validator(mode="after")
    def _completed_within_enrolled(self) -> SessionCompleted:
        if self.learners_completed > self.learners_enrolled:
            raise ValueError("learners_completed cannot exceed learners_enrolled")
        return self


class DropoutRecorded(ContractModel):
    EVENT_NAME: ClassVar[str] = "dropout_recorded"

    enrolment_id: Identifier
    learner_ref: Identifier
    dropped_at: Timestamp
    reason: DropoutReason
    reason_detail: LongText | None = None
    training: TrainingRef


class EnrolmentRecordedV1(Envelope[EnrolmentRecorded]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, EnrolmentRecorded.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, EnrolmentRecorded.EVENT_NAME, 1)
    type: Literal["fr.boucle.training.enrolment_recorded.v1"]


class SessionCompletedV1(Envelope[SessionCompleted]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, SessionCompleted.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SessionCompleted.EVENT_NAME, 1)
    type: Literal["fr.boucle.training.session_completed.v1"]


class DropoutRecordedV1(Envelope[DropoutRecorded]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, DropoutRecorded.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, DropoutRecorded.EVENT_NAME, 1)
    type: Literal["fr.boucle.training.dropout_recorded.v1"]


EVENTS = (EnrolmentRecordedV1, SessionCompletedV1, DropoutRecordedV1)
