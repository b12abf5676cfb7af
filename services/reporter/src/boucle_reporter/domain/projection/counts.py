"""``counts``: per site, month and family (feedback, training), from facts. Pure.

Counters and sets only, never a response: the read model grows with sites × months.
Every write is guarded by the event's sequence number in the evidence log.
"""

from __future__ import annotations

from datetime import datetime

from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.training.v1 import (
    DropoutRecordedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
)
from boucle_reporter.domain.projection.write import Write, key, tenant
from boucle_reporter.domain.read_model import month_of


def _count(  # noqa: PLR0917
    event: AnyEvent,
    seq: int,
    family: str,
    moment: datetime,
    increments: dict[str, int],
    members: dict[str, tuple[str, ...]] | None = None,
) -> Write:
    month = month_of(moment)
    return Write(
        "counts",
        key(event, event.site_id or "-", month, family),
        fields={**tenant(event), "month": month, "family": family},
        increments=increments,
        members={k: v for k, v in (members or {}).items() if v},
        newer_than=("seq", seq),
    )


def survey_response(event: SurveyResponseSubmittedV1, seq: int) -> list[Write]:
    response = event.data
    role = response.respondent_role.value
    return [_count(event, seq, "feedback", response.submitted_at, {f"responses.{role}": 1})]


def enrolment(event: EnrolmentRecordedV1, seq: int) -> list[Write]:
    enrolment = event.data
    funder = enrolment.funder_id or (f"{enrolment.funding.value}" if enrolment.funding else None)
    members = {
        "funders": (funder,) if funder else (),
        "companies": (enrolment.company_id,) if enrolment.company_id else (),
        "trainers": enrolment.training.trainer_ids,
    }
    return [_count(event, seq, "training", enrolment.enrolled_at, {"enrolments": 1}, members)]


def session_completed(event: SessionCompletedV1, seq: int) -> list[Write]:
    session = event.data
    completed = {"learners_completed": session.learners_completed}
    trainers = {"trainers": session.trainer_ids}
    return [_count(event, seq, "training", session.completed_at, completed, trainers)]


def dropout(event: DropoutRecordedV1, seq: int) -> list[Write]:
    dropout = event.data
    reason = {f"dropouts.{dropout.reason.value}": 1}
    trainers = {"trainers": dropout.training.trainer_ids}
    return [_count(event, seq, "training", dropout.dropped_at, reason, trainers)]
