"""Feedback family, major version 1: survey responses (appréciations, indicator 30)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from boucle_contracts.common import (
    ContractModel,
    DimensionSlug,
    Identifier,
    LongText,
    RespondentRole,
    ShortText,
    Timestamp,
    TrainingRef,
)
from boucle_contracts.envelope import Envelope, data_schema, event_type

FAMILY = "feedback"
TOPIC = "boucle.feedback.v1"


class SurveyKind(StrEnum):
    HOT = "hot"  # à chaud: end of a module or session
    COLD = "cold"  # à froid: weeks after the end
    END_OF_PROGRAMME = "end_of_programme"
    ANNUAL = "annual"
    AD_HOC = "ad_hoc"


class _AnswerBase(ContractModel):
    question_id: Identifier
    question_label: ShortText | None = Field(
        default=None, description="Question as the respondent saw it."
    )
    dimension: DimensionSlug | None = Field(
        default=None, description="What the question measures (taxonomy slug)."
    )


class ScaleAnswer(_AnswerBase):
    """A rating on a bounded scale, e.g. 1 to 5 stars or 0 to 10."""

    type: Literal["scale"]
    value: float
    scale_min: int = 1
    scale_max: int = 5

    @model_validator(mode="after")
    def _in_bounds(self) -> ScaleAnswer:
        if self.scale_max <= self.scale_min:
            raise ValueError(
                f"scale_max ({self.scale_max}) must exceed scale_min ({self.scale_min})"
            )
        if not self.scale_min <= self.value <= self.scale_max:
            raise ValueError(
                f"value {self.value} is outside the scale [{self.scale_min}, {self.scale_max}]"
            )
        return self


class NpsAnswer(_AnswerBase):
    """Net Promoter question: likelihood to recommend, 0 to 10."""

    type: Literal["nps"]
    value: int = Field(ge=0, le=10)


class ChoiceAnswer(_AnswerBase):
    """One or several options chosen; labels, not platform option ids."""

    type: Literal["choice"]
    value: tuple[ShortText, ...] = Field(min_length=1)


class TextAnswer(_AnswerBase):
    """Free expression (indicator 30 asks that respondents may express themselves freely)."""

    type: Literal["text"]
    value: LongText


Answer = Annotated[ScaleAnswer | NpsAnswer | ChoiceAnswer | TextAnswer, Field(discriminator="type")]


class Comment(ContractModel):
    comment_id: Identifier
    text: LongText
    dimension: DimensionSlug | None = Field(
        default=None, description="Set when the form asked about one dimension."
    )


class UnmappedAnswer(ContractModel):
    """A platform answer no mapping covered: kept verbatim, never dropped."""

    question_id: Identifier
    raw_value: Annotated[str, Field(max_length=20_000)]


class SurveyResponseSubmitted(ContractModel):
    EVENT_NAME: ClassVar[str] = "survey_response_submitted"

    response_id: Identifier = Field(
        description="Stable id: the platform's response id, prefixed by the platform."
    )
    survey_id: Identifier
    survey_kind: SurveyKind
    respondent_role: RespondentRole
    respondent_ref: Identifier | None = Field(
        default=None, description="Pseudonymous respondent reference; absent when anonymous."
    )
    anonymous: bool = False
    company_id: Identifier | None = Field(
        default=None, description="Client company, for company respondents."
    )
    submitted_at: Timestamp
    channel: Identifier = Field(description="How it reached Boucle: api, import, typeform, tally…")
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] = "fr"
    training: TrainingRef = TrainingRef()
    answers: tuple[Answer, ...] = Field(min_length=1)
    comments: tuple[Comment, ...] = ()
    unmapped: tuple[UnmappedAnswer, ...] = ()

    @model_validator(mode="after")
    def _anonymity(self) -> SurveyResponseSubmitted:
        if self.anonymous and self.respondent_ref is not None:
            raise ValueError("an anonymous response must not carry a respondent_ref")
        return self


class SurveyResponseSubmittedV1(Envelope[SurveyResponseSubmitted]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, SurveyResponseSubmitted.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SurveyResponseSubmitted.EVENT_NAME, 1)
    type: Literal["fr.boucle.feedback.survey_response_submitted.v1"]


EVENTS = (SurveyResponseSubmittedV1,)
