"""Incidents, training, NPS and roles in the aggregates; the KPIs derived from them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from boucle_analyzer.domain.aggregation import (
    complaint_contribution,
    completion_contribution,
    dropout_contribution,
    enrolment_contribution,
    hazard_contribution,
    nps_category,
    response_contribution,
    spread,
)
from boucle_analyzer.domain.figures import flatten, kpis_of, snapshot_from
from boucle_contracts.common import Period, RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import NpsAnswer, ScaleAnswer, SurveyKind, SurveyResponseSubmitted
from boucle_contracts.incidents.v1 import (
    ComplaintReceived,
    HazardReported,
    IncidentKind,
    ReceptionChannel,
)
from boucle_contracts.metrics.v1 import Granularity
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.training.v1 import (
    DropoutReason,
    DropoutRecorded,
    EnrolmentRecorded,
    SessionCompleted,
)

pytestmark = pytest.mark.unit
AT = datetime(2025, 3, 12, 10, tzinfo=UTC)
TRAINING = TrainingRef(programme_id="prog-1", trainer_ids=("t-1",))


def _response(
    role: RespondentRole, overall: int, nps: int | None = None
) -> SurveyResponseSubmitted:
    answers: list[ScaleAnswer | NpsAnswer] = [
        ScaleAnswer(type="scale", question_id="q", value=overall)
    ]
    if nps is not None:
        answers.append(NpsAnswer(type="nps", question_id="nps", value=nps))
    return SurveyResponseSubmitted(
        response_id=f"r-{role}-{overall}-{nps}",
        survey_id="s",
        survey_kind=SurveyKind.HOT,
        respondent_role=role,
        submitted_at=AT,
        channel="api",
        training=TRAINING,
        answers=tuple(answers),
    )


def _complaint(role: StakeholderRole = StakeholderRole.LEARNER) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id="c-1",
        received_at=AT,
        channel=ReceptionChannel.EMAIL,
        complainant_role=role,
        subject="Plateforme",
        description="Impossible de se connecter",
        training=TRAINING,
    )


def _enrolment(number: int) -> EnrolmentRecorded:
    return EnrolmentRecorded(
        enrolment_id=f"e-{number}", learner_ref=f"l-{number}", enrolled_at=AT, training=TRAINING
    )


def _dropout(reason: DropoutReason) -> DropoutRecorded:
    return DropoutRecorded(
        enrolment_id="e-1", learner_ref="l-1", dropped_at=AT, reason=reason, training=TRAINING
    )


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (0, "detractors"),
        (6, "detractors"),
        (7, "passives"),
        (8, "passives"),
        (9, "promoters"),
        (10, "promoters"),
    ],
)
def test_nps_categories(value: int, category: str) -> None:
    assert nps_category(value) == category


def _counts(*contributions: object) -> Counter[str]:
    """What the site's monthly aggregate holds after these contributions."""
    total: Counter[str] = Counter()
    for contribution in contributions:
        for delta in spread("net", "site-a", contribution):  # type: ignore[arg-type]
            if delta.scope.level is ScopeLevel.SITE and delta.granularity is Granularity.MONTH:
                total.update(delta.increments())
    return total


def test_every_input_event_counts_in_network_site_programme_and_trainer_scopes() -> None:
    for contribution in (
        complaint_contribution(_complaint()),
        enrolment_contribution(_enrolment(1)),
        dropout_contribution(_dropout(DropoutReason.HEALTH)),
    ):
        levels = {d.scope.level for d in spread("net", "site-a", contribution)}
        assert levels == set(ScopeLevel)


def test_a_session_counts_where_its_programme_and_trainers_are() -> None:
    session = SessionCompleted(
        session_id="s-1",
        programme_id="prog-1",
        completed_at=AT,
        learners_enrolled=12,
        learners_completed=10,
        trainer_ids=("t-1", "t-2"),
    )

    deltas = spread("net", "site-a", completion_contribution(session), (Granularity.MONTH,))

    assert len(deltas) == 5  # network, site, programme, two trainers
    assert all(
        d.increments() == {"sessions_completed": 1, "learners_completed": 10} for d in deltas
    )


def test_kpis_from_responses_enrolments_complaints_and_dropouts() -> None:
    counts = _counts(
        response_contribution(_response(RespondentRole.LEARNER, 5, nps=10)),
        response_contribution(_response(RespondentRole.LEARNER, 4, nps=9)),
        response_contribution(_response(RespondentRole.LEARNER, 2, nps=3)),
        response_contribution(_response(RespondentRole.COMPANY, 3, nps=7)),
        *(enrolment_contribution(_enrolment(n)) for n in range(8)),
        complaint_contribution(_complaint()),
        dropout_contribution(_dropout(DropoutReason.HEALTH)),
        dropout_contribution(_dropout(DropoutReason.CONTENT_MISMATCH)),
        hazard_contribution(
            HazardReported(
                incident_id="h-1",
                kind=IncidentKind.HAZARD,
                occurred_at=AT,
                reported_at=AT,
                reported_by_role=StakeholderRole.TRAINER,
                summary="Salle indisponible",
                training=TRAINING,
            )
        ),
    )

    kpis = kpis_of(counts)

    assert kpis.mean_satisfaction == pytest.approx(14 / 4)
    assert kpis.satisfaction_rate == pytest.approx(2 / 4)
    assert kpis.nps == pytest.approx(100 * (2 - 1) / 4)  # 2 promoters, 1 passive, 1 detractor
    assert kpis.learner_response_rate == pytest.approx(3 / 8)
    assert kpis.complaints_per_100_learners == pytest.approx(100 / 8)
    assert kpis.dropout_rate == pytest.approx(2 / 8)
    assert counts["hazards"] == 1


def test_the_snapshot_carries_roles_nps_incidents_and_reasons() -> None:
    counts = _counts(
        response_contribution(_response(RespondentRole.LEARNER, 5, nps=10)),
        response_contribution(_response(RespondentRole.COMPANY, 2, nps=4)),
        complaint_contribution(_complaint(StakeholderRole.FUNDER), themes=["platform"]),
        dropout_contribution(_dropout(DropoutReason.HEALTH)),
        enrolment_contribution(_enrolment(1)),
    )

    snapshot = snapshot_from(
        scope=Scope(level=ScopeLevel.SITE, network_id="net", site_id="site-a"),
        granularity=Granularity.MONTH,
        period=Period(start=datetime(2025, 3, 1, tzinfo=UTC), end=datetime(2025, 4, 1, tzinfo=UTC)),
        counts=counts,
        revision=5,
        last_event_id="evt",
    )

    assert snapshot.responses == 2
    assert (snapshot.nps.promoters, snapshot.nps.passives, snapshot.nps.detractors) == (1, 0, 1)
    assert snapshot.nps.score == 0.0
    roles = {r.role: r for r in snapshot.by_role}
    assert roles[RespondentRole.LEARNER].responses == 1
    assert roles[RespondentRole.LEARNER].overall_satisfied == 1
    assert roles[RespondentRole.COMPANY].overall_total == 2.0
    assert roles[RespondentRole.COMPANY].nps.detractors == 1
    assert snapshot.complaints == 1
    assert [(c.label, c.count) for c in snapshot.complaints_by_role] == [("funder", 1)]
    assert [(c.label, c.count) for c in snapshot.dropout_reasons] == [("health", 1)]
    assert [(c.label, c.count) for c in snapshot.comment_themes] == [("platform", 1)]
    assert snapshot.negative_comments == 1
    assert snapshot.kpis is not None
    assert snapshot.kpis.complaints_per_100_learners == 100.0


def test_kpis_without_denominators_are_not_computable() -> None:
    kpis = kpis_of(_counts(complaint_contribution(_complaint())))

    assert kpis.complaints_per_100_learners is None
    assert kpis.dropout_rate is None
    assert kpis.mean_satisfaction is None
    assert kpis.nps is None


def test_flatten_reads_back_what_dotted_increments_wrote() -> None:
    document = {
        "_id": "k",
        "revision": 3,
        "dirty": True,
        "wm": {"boucle_feedback_v1_0": 12},
        "responses": 2,
        "dims": {"overall": {"count": 2, "total_milli": 9000}},
        "roles": {"learner": {"nps": {"promoters": 1}}},
        "complaints": 1,
    }

    assert flatten(document) == {
        "responses": 2,
        "dims.overall.count": 2,
        "dims.overall.total_milli": 9000,
        "roles.learner.nps.promoters": 1,
        "complaints": 1,
    }
