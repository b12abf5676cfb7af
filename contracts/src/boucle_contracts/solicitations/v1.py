"""Solicitations family, major version 1: the collection plan in force, and who was asked
what, when, and whether they answered (Qualiopi indicator 30).

The surveys service publishes them. A collection plan version says, for each group of
stakeholders, which survey goes to whom and when: hot at the end of each session, cold some
days after it, to learners who left, yearly to funders, client companies and trainers. A
solicitation is one invitation that the plan gives rise to: one person, one survey, one
occasion (a session, or a year), with its reminders and its outcome. Response rates are
answered solicitations ÷ solicitations sent, so they can never exceed 100 %.

Events carry pseudonyms only: contact details stay in the surveys service's own store.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from boucle_contracts.common import (
    ContractModel,
    Identifier,
    LongText,
    RespondentRole,
    ShortText,
    Timestamp,
    TrainingRef,
)
from boucle_contracts.envelope import Envelope, data_schema, event_type
from boucle_contracts.feedback.v1 import SurveyKind

FAMILY = "solicitations"
TOPIC = "boucle.solicitations.v1"


class CollectionTrigger(StrEnum):
    """What gives rise to a solicitation."""

    SESSION_END = "session_end"  # each learner of a session, when it ends (+ delay_days)
    DROPOUT = "dropout"  # a learner who left, when the dropout is recorded (+ delay_days)
    YEARLY = "yearly"  # each funder, company or trainer of the network, once a year


class CollectionRule(ContractModel):
    """One line of a collection plan: which survey goes to whom, when, through which form."""

    rule_id: Identifier
    label: ShortText = Field(description="What people read, e.g. « Enquête à froid stagiaires ».")
    stakeholder: RespondentRole
    survey_kind: SurveyKind
    trigger: CollectionTrigger
    delay_days: int = Field(
        default=0, ge=0, le=730, description="Days after the trigger: 0 hot, 30–90 cold."
    )
    programme_ids: tuple[Identifier, ...] = Field(
        default=(), description="Programmes it applies to; empty for every programme."
    )
    survey_id: Identifier = Field(description="The survey its responses come back with.")
    platform: Identifier = Field(description="typeform, tally, limesurvey… or boucle.")
    form_url: ShortText = Field(description="The form's address; hidden fields are added to it.")
    anonymous: bool = Field(
        default=False, description="The link carries no respondent pseudonym (free expression)."
    )
    reminder_days: tuple[int, ...] = Field(
        default=(3, 7), max_length=5, description="Days after sending, in increasing order."
    )
    expires_after_days: int = Field(default=30, ge=1, le=365)

    @model_validator(mode="after")
    def _reminders_in_order(self) -> CollectionRule:
        days = self.reminder_days
        if any(day <= 0 for day in days) or list(days) != sorted(set(days)):
            raise ValueError("reminder_days must be positive and strictly increasing")
        if days and days[-1] >= self.expires_after_days:
            raise ValueError("every reminder must come before the solicitation expires")
        return self


class CollectionPlanPublished(ContractModel):
    """A new version of the network's collection plan, in force from ``effective_from``."""

    EVENT_NAME: ClassVar[str] = "collection_plan_published"

    plan_version: int = Field(ge=1)
    effective_from: Timestamp
    published_by: Identifier
    published_at: Timestamp
    rules: tuple[CollectionRule, ...] = Field(min_length=1)
    note: LongText | None = None


class SolicitationPlanned(ContractModel):
    """A person is to be asked: the occasion, the survey and when to send it."""

    EVENT_NAME: ClassVar[str] = "solicitation_planned"

    solicitation_id: Identifier
    plan_version: int = Field(ge=1)
    rule_id: Identifier
    survey_id: Identifier
    survey_kind: SurveyKind
    respondent_role: RespondentRole
    respondent_ref: Identifier = Field(description="Pseudonym of the person asked.")
    anonymous: bool = Field(description="Their answer comes back without their pseudonym.")
    occasion: Identifier = Field(description="The session, dropout or year it is about.")
    training: TrainingRef = TrainingRef()
    due_at: Timestamp = Field(description="When the invitation is to be sent.")
    expires_at: Timestamp


class SolicitationSent(ContractModel):
    EVENT_NAME: ClassVar[str] = "solicitation_sent"

    solicitation_id: Identifier
    survey_kind: SurveyKind
    respondent_role: RespondentRole
    sent_at: Timestamp


class SolicitationReminded(ContractModel):
    EVENT_NAME: ClassVar[str] = "solicitation_reminded"

    solicitation_id: Identifier
    reminder: int = Field(ge=1, description="1 for the first reminder.")
    reminded_at: Timestamp


class SolicitationAnswered(ContractModel):
    EVENT_NAME: ClassVar[str] = "solicitation_answered"

    solicitation_id: Identifier
    response_id: Identifier
    survey_kind: SurveyKind
    respondent_role: RespondentRole
    answered_at: Timestamp


class ClosingReason(StrEnum):
    NO_ANSWER = "no_answer"  # expired without an answer
    OPTED_OUT = "opted_out"  # the person asked not to be solicited any more
    UNREACHABLE = "unreachable"  # no contact details, or the address was refused


class SolicitationExpired(ContractModel):
    """Closed without an answer (never sent when unreachable: it is then not counted)."""

    EVENT_NAME: ClassVar[str] = "solicitation_expired"

    solicitation_id: Identifier
    reason: ClosingReason
    expired_at: Timestamp
    was_sent: bool = Field(description="False: the person was never reached.")


def _envelope(name: str) -> str:
    return event_type(FAMILY, name, 1)


class CollectionPlanPublishedV1(Envelope[CollectionPlanPublished]):
    EVENT_TYPE: ClassVar[str] = _envelope(CollectionPlanPublished.EVENT_NAME)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, CollectionPlanPublished.EVENT_NAME, 1)
    type: Literal["fr.boucle.solicitations.collection_plan_published.v1"]


class SolicitationPlannedV1(Envelope[SolicitationPlanned]):
    EVENT_TYPE: ClassVar[str] = _envelope(SolicitationPlanned.EVENT_NAME)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SolicitationPlanned.EVENT_NAME, 1)
    type: Literal["fr.boucle.solicitations.solicitation_planned.v1"]


class SolicitationSentV1(Envelope[SolicitationSent]):
    EVENT_TYPE: ClassVar[str] = _envelope(SolicitationSent.EVENT_NAME)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SolicitationSent.EVENT_NAME, 1)
    type: Literal["fr.boucle.solicitations.solicitation_sent.v1"]


class SolicitationRemindedV1(Envelope[SolicitationReminded]):
    EVENT_TYPE: ClassVar[str] = _envelope(SolicitationReminded.EVENT_NAME)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SolicitationReminded.EVENT_NAME, 1)
    type: Literal["fr.boucle.solicitations.solicitation_reminded.v1"]


class SolicitationAnsweredV1(Envelope[SolicitationAnswered]):
    EVENT_TYPE: ClassVar[str] = _envelope(SolicitationAnswered.EVENT_NAME)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SolicitationAnswered.EVENT_NAME, 1)
    type: Literal["fr.boucle.solicitations.solicitation_answered.v1"]


class SolicitationExpiredV1(Envelope[SolicitationExpired]):
    EVENT_TYPE: ClassVar[str] = _envelope(SolicitationExpired.EVENT_NAME)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SolicitationExpired.EVENT_NAME, 1)
    type: Literal["fr.boucle.solicitations.solicitation_expired.v1"]


EVENTS = (
    CollectionPlanPublishedV1,
    SolicitationPlannedV1,
    SolicitationSentV1,
    SolicitationRemindedV1,
    SolicitationAnsweredV1,
    SolicitationExpiredV1,
)
