"""A small collection plan and training facts shared by the surveys service's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.solicitations.v1 import CollectionRule, CollectionTrigger
from boucle_contracts.training.v1 import (
    EnrolmentRecorded,
    EnrolmentRecordedV1,
    SessionCompleted,
    SessionCompletedV1,
)
from boucle_surveys.domain.plan import PlanVersion
from boucle_surveys.domain.planning import Enrolment, SessionEnded

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NETWORK = "net-demo"


def rule(rule_id: str = "chaud-stagiaires", **changes: Any) -> CollectionRule:
    fields: dict[str, Any] = {
        "rule_id": rule_id,
        "label": "Enquête à chaud des stagiaires",
        "stakeholder": RespondentRole.LEARNER,
        "survey_kind": SurveyKind.HOT,
        "trigger": CollectionTrigger.SESSION_END,
        "survey_id": "form-chaud",
        "platform": "tally",
        "form_url": "https://tally.so/r/abc123",
        "reminder_days": (3, 7),
        "expires_after_days": 21,
    } | changes
    return CollectionRule.model_validate(fields)


def plan(*rules: CollectionRule, version: int = 1, effective_from: datetime = NOW) -> PlanVersion:
    return PlanVersion(
        network_id=NETWORK,
        version=version,
        effective_from=effective_from,
        rules=rules or (rule(),),
        published_by="resp-qualite",
        published_at=effective_from,
    )


def session(session_id: str = "sess-1", programme_id: str = "prog-gp") -> SessionEnded:
    return SessionEnded(
        session_id=session_id,
        programme_id=programme_id,
        site_id="site-lyon",
        ended_at=NOW,
        trainer_ids=("trainer-a",),
    )


def enrolment(learner: str, *, dropped_out: bool = False, **changes: Any) -> Enrolment:
    return Enrolment(
        enrolment_id=f"enr-{learner}",
        learner_ref=learner,
        site_id="site-lyon",
        training=TrainingRef(programme_id="prog-gp", session_id="sess-1"),
        dropped_out=dropped_out,
        **changes,
    )


# --- the training facts and responses as they arrive on the topics ------------------------

SITE = "site-lyon"


def training(session_id: str = "sess-1") -> TrainingRef:
    return TrainingRef(programme_id="prog-gp", session_id=session_id)


def enrolment_event(
    learner: str,
    at: datetime,
    *,
    network: str = NETWORK,
    session_id: str = "sess-1",
    enrolment_id: str | None = None,
) -> EnrolmentRecordedV1:
    return EnrolmentRecordedV1.create(
        data=EnrolmentRecorded(
            enrolment_id=enrolment_id or f"enr-{learner}",
            learner_ref=learner,
            enrolled_at=at,
            training=training(session_id),
        ),
        network_id=network,
        site_id=SITE,
        source="/test/tms",
    )


def session_event(
    learners: int,
    at: datetime,
    *,
    network: str = NETWORK,
    session_id: str = "sess-1",
    completed: int | None = None,
) -> SessionCompletedV1:
    return SessionCompletedV1.create(
        data=SessionCompleted(
            session_id=session_id,
            programme_id="prog-gp",
            completed_at=at,
            learners_enrolled=learners,
            learners_completed=learners if completed is None else completed,
        ),
        network_id=network,
        site_id=SITE,
        source="/test/tms",
    )


def response_event(
    respondent: str | None, response_id: str, at: datetime, *, network: str = NETWORK
) -> SurveyResponseSubmittedV1:
    """A hot-survey answer; ``respondent`` None: an anonymous one."""
    return SurveyResponseSubmittedV1.create(
        data=SurveyResponseSubmitted(
            response_id=response_id,
            survey_id="form-chaud",
            survey_kind=SurveyKind.HOT,
            respondent_role=RespondentRole.LEARNER,
            respondent_ref=respondent,
            anonymous=respondent is None,
            submitted_at=at,
            channel="tally",
            training=training(),
            answers=(
                ScaleAnswer(
                    type="scale",
                    question_id="q1",
                    dimension="overall",
                    value=4,
                    scale_min=1,
                    scale_max=5,
                ),
            ),
        ),
        network_id=network,
        site_id=SITE,
        source="/test/tally",
    )
