"""Value types shared by every event family of Boucle's contracts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Identifiers come from many systems (survey platforms, TMS, our own UUIDs): accept the
# usual URL-safe characters, refuse whitespace and control characters.
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$"),
]
# A dimension is configuration (the network's taxonomy), hence a slug rather than an enum.
DimensionSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Timestamp = AwareDatetime


class ContractModel(BaseModel):
    """Base of every event payload: immutable, and a tolerant reader.

    Unknown fields are ignored so that a consumer built on v1.n reads events produced by
    v1.n+1, which may add optional fields (see contracts/README.md, "Versioning").
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class RespondentRole(StrEnum):
    """The four stakeholder types of Qualiopi indicator 30."""

    LEARNER = "learner"
    FUNDER = "funder"
    TRAINER = "trainer"
    COMPANY = "company"


class StakeholderRole(StrEnum):
    """Who raised a complaint or reported a hazard: a stakeholder, or someone else."""

    LEARNER = "learner"
    FUNDER = "funder"
    TRAINER = "trainer"
    COMPANY = "company"
    STAFF = "staff"
    OTHER = "other"


class StandardDimension(StrEnum):
    """Dimensions every network has; networks may add their own slugs."""

    OVERALL = "overall"
    CONTENT = "content"
    TRAINER = "trainer"
    PLATFORM = "platform"
    ORGANISATION = "organisation"
    MATERIALS = "materials"
    ACCESSIBILITY = "accessibility"
    ADMINISTRATION = "administration"


class TrainingRef(ContractModel):
    """Where in the training offer an event belongs; every part is optional."""

    programme_id: Identifier | None = Field(default=None, description="Action de formation.")
    session_id: Identifier | None = Field(default=None, description="Session of the programme.")
    module_id: Identifier | None = Field(default=None, description="Module within the session.")
    trainer_ids: tuple[Identifier, ...] = Field(default=(), description="Trainers involved.")


class Period(ContractModel):
    """A half-open time window [start, end)."""

    start: Timestamp
    end: Timestamp

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("period end must be after its start")
        return self

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end
