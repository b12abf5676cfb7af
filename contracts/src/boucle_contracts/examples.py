"""One realistic example of every event type, built with the models (so valid by construction).

The examples tell one story, the worked case of the domain brief in the network
"reseau-horizon": learners of the Lyon Part-Dieu site complain about the online platform,
the analyzer detects the drop in platform satisfaction, a complaint case is handled, the
network replaces the platform infrastructure and the action is evaluated as effective.

They are deterministic (fixed ids, fixed UTC times): the JSON Schemas under
``contracts/schemas`` embed them as ``examples``, and tests and services use them as
fixtures. Get one with ``example(event_type)`` or, typed, ``example_of(EventClass)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, TypeVar

from boucle_contracts.actions.v1 import (
    ActionOrigin,
    ActionStatus,
    AnalysisMeetingRecorded,
    AnalysisMeetingRecordedV1,
    ImprovementActionCreated,
    ImprovementActionCreatedV1,
    ImprovementActionEvaluated,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitioned,
    ImprovementActionTransitionedV1,
    ImprovementActionUpdated,
    ImprovementActionUpdatedV1,
    KpiTarget,
    Priority,
    SourceRef,
)
from boucle_contracts.cases.v1 import (
    CaseSource,
    CaseStatus,
    ComplaintCaseOpened,
    ComplaintCaseOpenedV1,
    ComplaintCaseOverdue,
    ComplaintCaseOverdueV1,
    ComplaintCaseTransitioned,
    ComplaintCaseTransitionedV1,
)
from boucle_contracts.common import Period, RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.envelope import Envelope
from boucle_contracts.feedback.v1 import (
    Comment,
    NpsAnswer,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.incidents.v1 import (
    ComplaintReceived,
    ComplaintReceivedV1,
    HazardReported,
    HazardReportedV1,
    IncidentKind,
    ReceptionChannel,
)
from boucle_contracts.metrics.v1 import (
    DimensionFigures,
    Granularity,
    ScopeMetricsUpdated,
    ScopeMetricsUpdatedV1,
)
from boucle_contracts.privacy.v1 import SubjectErasureRequested, SubjectErasureRequestedV1
from boucle_contracts.problems.v1 import (
    ProblemDegradation,
    ProblemOpened,
    ProblemOpenedV1,
    ProblemResolved,
    ProblemResolvedV1,
    ProblemUpdated,
    ProblemUpdatedV1,
)
from boucle_contracts.referential.v1 import (
    PersonNamed,
    PersonNamedV1,
    ProgrammeNamed,
    ProgrammeNamedV1,
    SiteNamed,
    SiteNamedV1,
)
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import (
    DegradationDetected,
    DegradationDetectedV1,
    DegradationResolved,
    DegradationResolvedV1,
    Metric,
    Observation,
    Severity,
    StatisticalTest,
    ThemeShare,
)
from boucle_contracts.solicitations.v1 import (
    ClosingReason,
    CollectionPlanPublished,
    CollectionPlanPublishedV1,
    CollectionRule,
    CollectionTrigger,
    SolicitationAnswered,
    SolicitationAnsweredV1,
    SolicitationExpired,
    SolicitationExpiredV1,
    SolicitationPlanned,
    SolicitationPlannedV1,
    SolicitationReminded,
    SolicitationRemindedV1,
    SolicitationSent,
    SolicitationSentV1,
)
from boucle_contracts.training.v1 import (
    DropoutReason,
    DropoutRecorded,
    DropoutRecordedV1,
    EnrolmentRecorded,
    EnrolmentRecordedV1,
    FundingSource,
    SessionCompleted,
    SessionCompletedV1,
)

EventT = TypeVar("EventT", bound=Envelope[Any])

NETWORK = "reseau-horizon"
SITE = "lyon-part-dieu"
PROGRAMME = "prog-gestion-projet"
SESSION = "sess-gp-2025-03-lyon"
MODULE = "mod-gp-03-planification"
TRAINER = "formateur-0042"
COMMENT_ID = "typeform:r-8x2kq9:c1"


def _at(month: int, day: int, hour: int, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _figures(dimension: str, ratings: Sequence[int]) -> DimensionFigures:
    """Exact sums of a list of 1-5 ratings, as the analyzer publishes them."""
    return DimensionFigures(
        dimension=dimension,
        count=len(ratings),
        total=float(sum(ratings)),
        total_squares=float(sum(r * r for r in ratings)),
        satisfied=sum(r >= 4 for r in ratings),
    )


def _mean(figures: DimensionFigures) -> float:
    return round(figures.total / figures.count, 2)


_TRAINING = TrainingRef(
    programme_id=PROGRAMME, session_id=SESSION, module_id=MODULE, trainer_ids=(TRAINER,)
)
_SITE_SCOPE = Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=SITE)
_SITE_PLATFORM_SCOPE = Scope(
    level=ScopeLevel.SITE, network_id=NETWORK, site_id=SITE, dimension="platform"
)
_NETWORK_PLATFORM_SCOPE = Scope(level=ScopeLevel.NETWORK, network_id=NETWORK, dimension="platform")
_BASELINE_WEEKS = Period(start=_at(12, 16, 0, year=2024), end=_at(3, 10, 0))
_DEGRADED_WEEK = Period(start=_at(3, 10, 0), end=_at(3, 17, 0))
_RECOVERED_WEEK = Period(start=_at(5, 5, 0), end=_at(5, 12, 0))

# Week of 10 March 2025 at Lyon Part-Dieu: 23 hot-survey responses.
_OVERALL = _figures(
    "overall", [2, 3, 2, 2, 3, 3, 2, 4, 3, 2, 1, 3, 4, 2, 3, 2, 5, 3, 2, 3, 4, 2, 3]
)
_PLATFORM = _figures(
    "platform", [1, 2, 1, 2, 2, 3, 1, 3, 2, 1, 1, 2, 4, 2, 3, 1, 4, 2, 1, 2, 3, 2, 2]
)
_TRAINER = _figures(
    "trainer", [4, 5, 4, 4, 5, 4, 3, 5, 4, 4, 4, 5, 5, 4, 3, 4, 5, 4, 4, 5, 4, 4, 4]
)

# --- training: the denominators -------------------------------------------------------

ENROLMENT_RECORDED = EnrolmentRecordedV1.create(
    event_id="a0b3b988-4ec5-5be0-8a1f-c57c61080f38",
    time=_at(2, 3, 8, 30),
    source="/collector/tms",
    network_id=NETWORK,
    site_id=SITE,
    subject="enrolment/enr-2025-0147",
    data=EnrolmentRecorded(
        enrolment_id="enr-2025-0147",
        learner_ref="lrn-7f3a9c",
        enrolled_at=_at(2, 3, 8, 30),
        funding=FundingSource.OPCO,
        funder_id="opco-atlas",
        company_id="ent-batiplus-rhone",
        training=TrainingRef(programme_id=PROGRAMME, session_id=SESSION),
    ),
)

# --- feedback and incidents: what stakeholders say ------------------------------------

HAZARD_REPORTED = HazardReportedV1.create(
    event_id="e4ac7cca-6a5b-5b66-b102-2adc0d11d0ac",
    time=_at(3, 13, 9, 45),
    source="/collector/api/incidents",
    network_id=NETWORK,
    site_id=SITE,
    subject="incident/ale-2025-031",
    data=HazardReported(
        incident_id="ale-2025-031",
        kind=IncidentKind.HAZARD,
        occurred_at=_at(3, 13, 9, 10),
        reported_at=_at(3, 13, 9, 45),
        reported_by_role=StakeholderRole.TRAINER,
        summary="Coupure de la plateforme e-learning pendant la classe virtuelle",
        description=(
            "La plateforme a été inaccessible de 9h10 à 9h40 ; la séance de planification a "
            "été reportée à l'après-midi."
        ),
        learners_affected=12,
        category_hint="platform",
        training=_TRAINING,
    ),
)

SURVEY_RESPONSE_SUBMITTED = SurveyResponseSubmittedV1.create(
    event_id="ac7dcc37-24c8-5436-8e9b-b9c7a09a2f01",
    time=_at(3, 14, 16, 42),
    source="/collector/webhooks/typeform",
    network_id=NETWORK,
    site_id=SITE,
    subject="response/typeform:r-8x2kq9",
    data=SurveyResponseSubmitted(
        response_id="typeform:r-8x2kq9",
        survey_id="enquete-chaud-fin-module",
        survey_kind=SurveyKind.HOT,
        respondent_role=RespondentRole.LEARNER,
        anonymous=True,
        submitted_at=_at(3, 14, 16, 41),
        channel="typeform",
        language="fr",
        training=_TRAINING,
        answers=(
            ScaleAnswer(
                type="scale",
                question_id="q-satisfaction-globale",
                question_label="Globalement, êtes-vous satisfait(e) de ce module ?",
                dimension="overall",
                value=2,
            ),
            ScaleAnswer(
                type="scale",
                question_id="q-plateforme",
                question_label="Comment évaluez-vous la plateforme en ligne ?",
                dimension="platform",
                value=1,
            ),
            ScaleAnswer(
                type="scale",
                question_id="q-formateur",
                question_label="Comment évaluez-vous l'animation du formateur ?",
                dimension="trainer",
                value=4,
            ),
            NpsAnswer(
                type="nps",
                question_id="q-recommandation",
                question_label="Recommanderiez-vous cette formation à un collègue ?",
                value=5,
            ),
        ),
        comments=(
            Comment(
                comment_id=COMMENT_ID,
                text="La plateforme en ligne coupe souvent, impossible de finir le module",
            ),
        ),
    ),
)

COMPLAINT_RECEIVED = ComplaintReceivedV1.create(
    event_id="16fff084-b23f-5b05-b155-fc63ddaec603",
    time=_at(3, 17, 10, 5),
    source="/collector/api/complaints",
    network_id=NETWORK,
    site_id=SITE,
    subject="complaint/rec-2025-012",
    data=ComplaintReceived(
        complaint_id="rec-2025-012",
        received_at=_at(3, 17, 10, 5),
        channel=ReceptionChannel.EMAIL,
        complainant_role=StakeholderRole.COMPANY,
        complainant_ref="ent-batiplus-rhone",
        subject="Salariés bloqués par les coupures de la plateforme",
        description=(
            "Nos deux salariés inscrits à la formation Gestion de projet n'ont pas pu suivre "
            "les modules à distance la semaine dernière : la plateforme coupe sans arrêt. "
            "Nous demandons une solution et un rattrapage des heures perdues."
        ),
        category_hint="platform",
        training=TrainingRef(programme_id=PROGRAMME, session_id=SESSION),
    ),
)

DROPOUT_RECORDED = DropoutRecordedV1.create(
    event_id="dc90ee7e-ca51-540f-9ec0-523df1561eb0",
    time=_at(3, 20, 11, 0),
    source="/collector/tms",
    network_id=NETWORK,
    site_id=SITE,
    subject="enrolment/enr-2025-0153",
    data=DropoutRecorded(
        enrolment_id="enr-2025-0153",
        learner_ref="lrn-2b81d0",
        dropped_at=_at(3, 19, 0, 0),
        reason=DropoutReason.DISSATISFACTION,
        reason_detail="Ne parvient plus à suivre les modules à distance à cause des coupures.",
        training=TrainingRef(programme_id=PROGRAMME, session_id=SESSION),
    ),
)

SESSION_COMPLETED = SessionCompletedV1.create(
    event_id="c7ddc25e-43cb-5e94-a778-53de1db15fad",
    time=_at(3, 28, 17, 30),
    source="/collector/tms",
    network_id=NETWORK,
    site_id=SITE,
    subject=f"session/{SESSION}",
    data=SessionCompleted(
        session_id=SESSION,
        programme_id=PROGRAMME,
        completed_at=_at(3, 28, 17, 0),
        learners_enrolled=14,
        learners_completed=12,
        trainer_ids=(TRAINER,),
    ),
)

# --- analyzer: figures and signals ----------------------------------------------------

SCOPE_METRICS_UPDATED = ScopeMetricsUpdatedV1.create(
    event_id="21b54b6d-777b-5198-8704-4364e692c1e2",
    time=_at(3, 14, 16, 42),
    source="/analyzer",
    network_id=NETWORK,
    site_id=SITE,
    subject="metrics/site/week/2025-03-10",
    causation_id=SURVEY_RESPONSE_SUBMITTED.id,
    correlation_id=SURVEY_RESPONSE_SUBMITTED.correlation_id,
    data=ScopeMetricsUpdated(
        scope=_SITE_SCOPE,
        granularity=Granularity.WEEK,
        period=_DEGRADED_WEEK,
        responses=23,
        dimensions=(_OVERALL, _PLATFORM, _TRAINER),
        revision=23,
        last_event_id=SURVEY_RESPONSE_SUBMITTED.id,
    ),
)

DEGRADATION_DETECTED = DegradationDetectedV1.create(
    event_id="19bcfd93-46ea-510d-901e-3a3cb39c0b1a",
    time=_at(3, 17, 6, 0),
    source="/analyzer",
    network_id=NETWORK,
    site_id=SITE,
    subject="degradation/deg-2025-0007",
    data=DegradationDetected(
        degradation_id="deg-2025-0007",
        scope=_SITE_PLATFORM_SCOPE,
        metric=Metric.MEAN_SATISFACTION,
        dimension="platform",
        detected_at=_at(3, 17, 6, 0),
        baseline=Observation(value=4.1, sample_size=212, period=_BASELINE_WEEKS),
        current=Observation(
            value=_mean(_PLATFORM), sample_size=_PLATFORM.count, period=_DEGRADED_WEEK
        ),
        tests=(
            StatisticalTest(
                name="welch_t",
                statistic=-9.84,
                p_value=2.1e-10,
                adjusted_p_value=6.3e-9,
                correction="benjamini_hochberg",
                comparison="own_baseline",
            ),
        ),
        severity=Severity.HIGH,
        themes=(
            ThemeShare(theme="platform", share=0.72, comment_count=13),
            ThemeShare(theme="organisation", share=0.11, comment_count=2),
        ),
        example_comment_ids=(COMMENT_ID,),
    ),
)

DEGRADATION_RESOLVED = DegradationResolvedV1.create(
    event_id="12de0b87-9666-5140-8e6b-9cfebe96ce8a",
    time=_at(5, 12, 6, 0),
    source="/analyzer",
    network_id=NETWORK,
    site_id=SITE,
    subject="degradation/deg-2025-0007",
    causation_id=DEGRADATION_DETECTED.id,
    correlation_id=DEGRADATION_DETECTED.correlation_id,
    data=DegradationResolved(
        degradation_id="deg-2025-0007",
        scope=_SITE_PLATFORM_SCOPE,
        metric=Metric.MEAN_SATISFACTION,
        dimension="platform",
        resolved_at=_at(5, 12, 6, 0),
        current=Observation(value=4.3, sample_size=31, period=_RECOVERED_WEEK),
    ),
)

# --- analyzer: the problem those degradations are ---------------------------------------

PROBLEM_ID = "pb-2025-0003"
_SITE_OVERALL_SCOPE = Scope(
    level=ScopeLevel.SITE, network_id=NETWORK, site_id=SITE, dimension="overall"
)
_PLATFORM_DROP = ProblemDegradation(
    degradation_id="deg-2025-0007",
    scope=_SITE_PLATFORM_SCOPE,
    metric=Metric.MEAN_SATISFACTION,
    dimension="platform",
    opened_week=_DEGRADED_WEEK.start,
    baseline=DEGRADATION_DETECTED.data.baseline,
    current=DEGRADATION_DETECTED.data.current,
    tests=DEGRADATION_DETECTED.data.tests,
    severity=Severity.HIGH,
)
_OVERALL_DROP = ProblemDegradation(
    degradation_id="deg-2025-0008",
    scope=_SITE_OVERALL_SCOPE,
    metric=Metric.MEAN_SATISFACTION,
    dimension="overall",
    opened_week=_DEGRADED_WEEK.start,
    baseline=Observation(value=4.2, sample_size=212, period=_BASELINE_WEEKS),
    current=Observation(value=_mean(_OVERALL), sample_size=_OVERALL.count, period=_DEGRADED_WEEK),
    tests=(
        StatisticalTest(
            name="welch_t",
            statistic=-7.12,
            p_value=3.4e-8,
            adjusted_p_value=5.1e-7,
            correction="benjamini_hochberg",
            comparison="own_baseline",
        ),
    ),
    severity=Severity.CRITICAL,
)
_PROBLEM_THEMES = (
    ThemeShare(theme="platform", share=0.72, comment_count=13),
    ThemeShare(theme="organisation", share=0.11, comment_count=2),
)

PROBLEM_OPENED = ProblemOpenedV1.create(
    event_id="3b0f6a1e-8c2d-5e4f-9a7b-1c3d5e7f9a0b",
    time=_at(3, 17, 6, 0),
    source="/analyzer/detection",
    network_id=NETWORK,
    subject=f"problem/{PROBLEM_ID}",
    causation_id=DEGRADATION_DETECTED.id,
    correlation_id=DEGRADATION_DETECTED.correlation_id,
    data=ProblemOpened(
        problem_id=PROBLEM_ID,
        scopes=(_SITE_SCOPE,),
        degradation_ids=("deg-2025-0007", "deg-2025-0008"),
        degradations=(_PLATFORM_DROP, _OVERALL_DROP),
        metrics=(Metric.MEAN_SATISFACTION,),
        dimensions=("overall", "platform"),
        severity=Severity.CRITICAL,
        opened_week=_DEGRADED_WEEK.start,
        detected_at=_DEGRADED_WEEK.end,
        themes=_PROBLEM_THEMES,
        example_comment_ids=(COMMENT_ID, "typeform:r-3k7pq2:c1", "tally:w-91ab:q-commentaire"),
        complaint_ids=("rec-2025-012",),
        hazard_ids=(),
        emerging_terms=("coupur", "plateform"),
    ),
)

PROBLEM_UPDATED = ProblemUpdatedV1.create(
    event_id="5d2a8c4e-0f1b-5a3c-8e6d-7b9f1a3c5e70",
    time=_at(4, 21, 0, 0),
    source="/analyzer/detection",
    network_id=NETWORK,
    subject=f"problem/{PROBLEM_ID}",
    causation_id=PROBLEM_OPENED.id,
    correlation_id=PROBLEM_OPENED.correlation_id,
    data=ProblemUpdated(
        problem_id=PROBLEM_ID,
        scopes=(_SITE_SCOPE,),
        degradation_ids=("deg-2025-0007",),
        degradations=(_PLATFORM_DROP,),
        metrics=(Metric.MEAN_SATISFACTION,),
        dimensions=("platform",),
        severity=Severity.HIGH,
        opened_week=_DEGRADED_WEEK.start,
        detected_at=_DEGRADED_WEEK.end,
        themes=_PROBLEM_THEMES,
        example_comment_ids=(COMMENT_ID,),
        complaint_ids=("rec-2025-012",),
        updated_at=_at(4, 21, 0, 0),
        left_degradation_ids=("deg-2025-0008",),
    ),
)

PROBLEM_RESOLVED = ProblemResolvedV1.create(
    event_id="9e4c0a2b-6d8f-5b1a-a3c5-e7f9b1d3f5a7",
    time=_at(5, 12, 6, 0),
    source="/analyzer/detection",
    network_id=NETWORK,
    subject=f"problem/{PROBLEM_ID}",
    causation_id=DEGRADATION_RESOLVED.id,
    correlation_id=PROBLEM_OPENED.correlation_id,
    data=ProblemResolved(
        problem_id=PROBLEM_ID,
        scopes=(_SITE_SCOPE,),
        degradation_ids=("deg-2025-0007",),
        opened_week=_DEGRADED_WEEK.start,
        resolved_at=_at(5, 12, 0, 0),
    ),
)

# --- complaint case (indicator 31) ----------------------------------------------------

COMPLAINT_CASE_OPENED = ComplaintCaseOpenedV1.create(
    event_id="2362e247-28ef-5d20-8484-799f41c0f94c",
    time=_at(3, 17, 10, 6),
    source="/actions/cases",
    network_id=NETWORK,
    site_id=SITE,
    subject="case/case-2025-012",
    causation_id=COMPLAINT_RECEIVED.id,
    correlation_id=COMPLAINT_RECEIVED.correlation_id,
    data=ComplaintCaseOpened(
        case_id="case-2025-012",
        source=CaseSource.COMPLAINT,
        source_event_id=COMPLAINT_RECEIVED.id,
        source_ref="rec-2025-012",
        opened_at=_at(3, 17, 10, 6),
        summary="Salariés bloqués par les coupures de la plateforme",
        category="platform",
        acknowledge_due_at=_at(3, 19, 10, 5),
        answer_due_at=_at(3, 31, 10, 5),
    ),
)

COMPLAINT_CASE_OVERDUE = ComplaintCaseOverdueV1.create(
    event_id="08f7dbfb-882c-5d3c-8bbf-2613a42c903c",
    time=_at(3, 19, 10, 6),
    source="/actions/cases",
    network_id=NETWORK,
    site_id=SITE,
    subject="case/case-2025-012",
    causation_id=COMPLAINT_CASE_OPENED.id,
    correlation_id=COMPLAINT_CASE_OPENED.correlation_id,
    data=ComplaintCaseOverdue(
        case_id="case-2025-012",
        deadline="acknowledge",
        due_at=_at(3, 19, 10, 5),
        detected_at=_at(3, 19, 10, 6),
    ),
)

# --- improvement action (indicator 32): a network-wide measure --------------------------

IMPROVEMENT_ACTION_CREATED = ImprovementActionCreatedV1.create(
    event_id="c8174ffa-de55-522c-ad7e-e2868977d9fd",
    time=_at(3, 18, 14, 0),
    source="/actions",
    network_id=NETWORK,
    subject="action/act-2025-017",
    causation_id=DEGRADATION_DETECTED.id,
    correlation_id=DEGRADATION_DETECTED.correlation_id,
    data=ImprovementActionCreated(
        action_id="act-2025-017",
        origin=ActionOrigin.DEGRADATION,
        sources=(
            SourceRef(kind="degradation", ref="deg-2025-0007"),
            SourceRef(kind="complaint", ref="rec-2025-012"),
            SourceRef(kind="hazard", ref="ale-2025-031"),
        ),
        title="Migrer la plateforme e-learning vers une infrastructure redondante",
        problem=(
            "Coupures répétées de la plateforme en ligne depuis début mars : la satisfaction "
            "plateforme à Lyon Part-Dieu est passée de 4,1 à 2,0 sur 5, une réclamation "
            "entreprise et un abandon y sont liés."
        ),
        scope=_NETWORK_PLATFORM_SCOPE,
        status=ActionStatus.PROPOSED,
        priority=Priority.HIGH,
        owner="usr-resp-si-reseau",
        due_date=date(2025, 4, 30),
        kpi=KpiTarget(
            metric=Metric.MEAN_SATISFACTION, dimension="platform", baseline=2.9, target=4.0
        ),
        created_at=_at(3, 18, 14, 0),
        created_by="usr-resp-qualite-reseau",
    ),
)

IMPROVEMENT_ACTION_TRANSITIONED = ImprovementActionTransitionedV1.create(
    event_id="69c6405c-7407-5d33-be9b-f900827cc6eb",
    time=_at(3, 20, 17, 15),
    source="/actions",
    network_id=NETWORK,
    subject="action/act-2025-017",
    causation_id=IMPROVEMENT_ACTION_CREATED.id,
    correlation_id=IMPROVEMENT_ACTION_CREATED.correlation_id,
    data=ImprovementActionTransitioned(
        action_id="act-2025-017",
        from_status=ActionStatus.PROPOSED,
        to_status=ActionStatus.VALIDATED,
        at=_at(3, 20, 17, 15),
        actor="usr-direction-reseau",
        revision=2,
        note="Validé en comité de direction du 20 mars ; budget infrastructure accordé.",
        owner="usr-resp-si-reseau",
        due_date=date(2025, 4, 30),
    ),
)

COMPLAINT_CASE_TRANSITIONED = ComplaintCaseTransitionedV1.create(
    event_id="ee62f801-9f15-502d-a86b-39932265bf44",
    time=_at(3, 21, 15, 30),
    source="/actions/cases",
    network_id=NETWORK,
    site_id=SITE,
    subject="case/case-2025-012",
    causation_id=IMPROVEMENT_ACTION_TRANSITIONED.id,
    correlation_id=COMPLAINT_CASE_OPENED.correlation_id,
    data=ComplaintCaseTransitioned(
        case_id="case-2025-012",
        from_status=CaseStatus.ANALYSED,
        to_status=CaseStatus.ANSWERED,
        at=_at(3, 21, 15, 30),
        actor="usr-resp-site-lyon",
        revision=4,
        answer=(
            "Nous avons identifié une saturation de l'hébergement de la plateforme. Une "
            "nouvelle infrastructure sera en service avant fin avril, avec un support "
            "technique 24h/24 ; deux demi-journées de rattrapage sont proposées à vos salariés."
        ),
        root_cause="Hébergement de la plateforme sous-dimensionné depuis la hausse des effectifs.",
        action_ids=("act-2025-017",),
    ),
)

IMPROVEMENT_ACTION_EVALUATED = ImprovementActionEvaluatedV1.create(
    event_id="0b6b7390-dd14-5037-9896-27f1ea0566b4",
    time=_at(5, 12, 6, 30),
    source="/actions",
    network_id=NETWORK,
    subject="action/act-2025-017",
    causation_id=IMPROVEMENT_ACTION_TRANSITIONED.id,
    correlation_id=IMPROVEMENT_ACTION_CREATED.correlation_id,
    data=ImprovementActionEvaluated(
        action_id="act-2025-017",
        outcome="effective",
        metric=Metric.MEAN_SATISFACTION,
        before=Observation(value=2.9, sample_size=412, period=_DEGRADED_WEEK),
        after=Observation(value=4.2, sample_size=455, period=_RECOVERED_WEEK),
        test=StatisticalTest(
            name="welch_t",
            statistic=18.6,
            p_value=1.0e-12,
            comparison="own_baseline",
        ),
        evaluated_at=_at(5, 12, 6, 30),
        note="Satisfaction plateforme revenue au-dessus de l'objectif de 4,0 sur 5.",
    ),
)

IMPROVEMENT_ACTION_UPDATED = ImprovementActionUpdatedV1.create(
    event_id="4f1c8e2a-6b3d-5a7e-9c0f-1d2e3f4a5b6c",
    time=_at(3, 19, 9, 30),
    source="/actions",
    network_id=NETWORK,
    subject="action/act-2025-017",
    causation_id=IMPROVEMENT_ACTION_CREATED.id,
    correlation_id=IMPROVEMENT_ACTION_CREATED.correlation_id,
    data=ImprovementActionUpdated(
        action_id="act-2025-017",
        at=_at(3, 19, 9, 30),
        actor="usr-resp-qualite-reseau",
        revision=2,
        fields=("measures", "root_cause_analysis"),
        title="Migrer la plateforme e-learning vers une infrastructure redondante",
        owner="usr-resp-si-reseau",
        due_date=date(2025, 4, 30),
        priority=Priority.HIGH,
        kpi=KpiTarget(
            metric=Metric.MEAN_SATISFACTION, dimension="platform", baseline=2.9, target=4.0
        ),
        measures=(
            "Hébergement redondant sur deux zones",
            "Support technique 24h/24 pendant les sessions",
        ),
        root_cause_analysis="Hébergement sous-dimensionné depuis la hausse des effectifs.",
    ),
)

ANALYSIS_MEETING_RECORDED = AnalysisMeetingRecordedV1.create(
    event_id="7a2b9c3d-4e5f-5061-8172-93a4b5c6d7e8",
    time=_at(3, 18, 11, 0),
    source="/actions/meetings",
    network_id=NETWORK,
    site_id=SITE,
    subject="meeting/mtg-2025-004",
    data=AnalysisMeetingRecorded(
        meeting_id="mtg-2025-004",
        kind="analysis",
        held_at=_at(3, 18, 9, 0),
        title="Réunion d'analyse des appréciations de mars",
        attendees=("usr-resp-site-lyon", "usr-resp-qualite-reseau", "formateurs"),
        data_reviewed=("Satisfaction plateforme par semaine", "Verbatims négatifs plateforme"),
        decisions=("Proposer la migration de l'hébergement à la direction",),
        recorded_by="usr-resp-site-lyon",
    ),
)

# --- referential: the names people read ------------------------------------------------

SITE_NAMED = SiteNamedV1.create(
    event_id="3c7d1e52-8a4b-5f60-9b1c-2d3e4f5a6b7c",
    time=_at(1, 6, 8, 0),
    source="/collector/referential",
    network_id=NETWORK,
    site_id=SITE,
    subject=f"site/{SITE}",
    data=SiteNamed(site_id=SITE, name="Lyon Part-Dieu"),
)

PROGRAMME_NAMED = ProgrammeNamedV1.create(
    event_id="5e8f2a63-9b5c-5071-8c2d-3e4f5a6b7c8d",
    time=_at(1, 6, 8, 0),
    source="/collector/referential",
    network_id=NETWORK,
    subject=f"programme/{PROGRAMME}",
    data=ProgrammeNamed(programme_id=PROGRAMME, name="Gestion de projet"),
)

PERSON_NAMED = PersonNamedV1.create(
    event_id="6f903b74-ac6d-5182-9d3e-4f5a6b7c8d9e",
    time=_at(1, 6, 8, 0),
    source="/collector/referential",
    network_id=NETWORK,
    subject="person/usr-resp-si-reseau",
    data=PersonNamed(
        person_id="usr-resp-si-reseau",
        name="Karim Benali",
        role="it_manager",
        title="Responsable des systèmes d'information du réseau",
    ),
)

# --- privacy: a data subject's erasure ----------------------------------------------------

SUBJECT_ERASURE_REQUESTED = SubjectErasureRequestedV1.create(
    event_id="7a0b4c85-bd7e-5293-8e4f-5a6b7c8d9eaf",
    time=_at(6, 2, 9, 30),
    source="/collector/privacy/erasures",
    network_id=NETWORK,
    subject="erasure/era-2025-0001",
    data=SubjectErasureRequested(
        request_id="era-2025-0001",
        subject_ref="p-3f9a1c0e7b2d4a6f8e1c5b7a9d0f2e4c",
        requested_at=_at(6, 2, 9, 30),
        requested_by="usr-resp-qualite-reseau",
    ),
)

# --- solicitations: the collection plan, and one learner asked ----------------------------

_SOLICITATION = "sol-6b1f0c7e-3a52-5d94-8e17-2c4b9a0f5d31"
_HOT_RULE = CollectionRule(
    rule_id="chaud-stagiaires",
    label="Enquête à chaud des stagiaires",
    stakeholder=RespondentRole.LEARNER,
    survey_kind=SurveyKind.HOT,
    trigger=CollectionTrigger.SESSION_END,
    survey_id="typeform:satisfaction-chaud",
    platform="typeform",
    form_url="https://reseau-horizon.typeform.com/to/Ab12Cd",
    reminder_days=(3, 7),
    expires_after_days=21,
)


def _solicitation_event(cls: type[EventT], step: str, at: datetime, data: Any) -> EventT:
    return cls.create(
        event_id=f"8b1c5d96-ce8f-53a4-9f50-6b7c8d9e0a{step}",
        time=at,
        source="/surveys/solicitations",
        network_id=NETWORK,
        site_id=SITE,
        subject=f"solicitation/{_SOLICITATION}",
        data=data,
    )


COLLECTION_PLAN_PUBLISHED = CollectionPlanPublishedV1.create(
    event_id="8b1c5d96-ce8f-53a4-9f50-6b7c8d9e0a00",
    time=_at(1, 6, 9, 0),
    source="/surveys/plans",
    network_id=NETWORK,
    subject="plan/1",
    data=CollectionPlanPublished(
        plan_version=1,
        effective_from=_at(1, 6, 0, 0),
        published_by="usr-resp-qualite-reseau",
        published_at=_at(1, 6, 9, 0),
        rules=(
            _HOT_RULE,
            _HOT_RULE.model_copy(
                update={
                    "rule_id": "froid-stagiaires",
                    "label": "Enquête à froid des stagiaires",
                    "survey_kind": SurveyKind.COLD,
                    "delay_days": 60,
                    "survey_id": "typeform:satisfaction-froid",
                }
            ),
            _HOT_RULE.model_copy(
                update={
                    "rule_id": "annuel-financeurs",
                    "label": "Enquête annuelle des financeurs",
                    "stakeholder": RespondentRole.FUNDER,
                    "survey_kind": SurveyKind.ANNUAL,
                    "trigger": CollectionTrigger.YEARLY,
                    "survey_id": "tally:financeurs-annuel",
                    "platform": "tally",
                    "form_url": "https://tally.so/r/wMx0Ab",
                }
            ),
        ),
        note="Plan de collecte 2025 : à chaud, à froid à deux mois, financeurs une fois par an.",
    ),
)
_SESSION_END = _at(3, 21, 17, 0)
SOLICITATION_PLANNED = _solicitation_event(
    SolicitationPlannedV1,
    "01",
    _SESSION_END,
    SolicitationPlanned(
        solicitation_id=_SOLICITATION,
        plan_version=1,
        rule_id="chaud-stagiaires",
        survey_id="typeform:satisfaction-chaud",
        survey_kind=SurveyKind.HOT,
        respondent_role=RespondentRole.LEARNER,
        respondent_ref="lrn-5c2e81",
        anonymous=False,
        occasion=SESSION,
        training=TrainingRef(programme_id=PROGRAMME, session_id=SESSION),
        due_at=_SESSION_END,
        expires_at=_at(4, 11, 17, 0),
    ),
)
SOLICITATION_SENT = _solicitation_event(
    SolicitationSentV1,
    "02",
    _at(3, 21, 17, 5),
    SolicitationSent(
        solicitation_id=_SOLICITATION,
        survey_kind=SurveyKind.HOT,
        respondent_role=RespondentRole.LEARNER,
        sent_at=_at(3, 21, 17, 5),
    ),
)
SOLICITATION_REMINDED = _solicitation_event(
    SolicitationRemindedV1,
    "03",
    _at(3, 24, 17, 5),
    SolicitationReminded(solicitation_id=_SOLICITATION, reminder=1, reminded_at=_at(3, 24, 17, 5)),
)
SOLICITATION_ANSWERED = _solicitation_event(
    SolicitationAnsweredV1,
    "04",
    _at(3, 25, 8, 40),
    SolicitationAnswered(
        solicitation_id=_SOLICITATION,
        response_id="typeform:r-8x2kq9",
        survey_kind=SurveyKind.HOT,
        respondent_role=RespondentRole.LEARNER,
        answered_at=_at(3, 25, 8, 40),
    ),
)
SOLICITATION_EXPIRED = _solicitation_event(
    SolicitationExpiredV1,
    "05",
    _at(4, 11, 17, 0),
    SolicitationExpired(
        solicitation_id=_SOLICITATION,
        reason=ClosingReason.NO_ANSWER,
        expired_at=_at(4, 11, 17, 0),
        was_sent=True,
    ),
)

_ALL: tuple[AnyEvent, ...] = (
    SURVEY_RESPONSE_SUBMITTED,
    COMPLAINT_RECEIVED,
    HAZARD_REPORTED,
    ENROLMENT_RECORDED,
    SESSION_COMPLETED,
    DROPOUT_RECORDED,
    SCOPE_METRICS_UPDATED,
    DEGRADATION_DETECTED,
    DEGRADATION_RESOLVED,
    PROBLEM_OPENED,
    PROBLEM_UPDATED,
    PROBLEM_RESOLVED,
    COMPLAINT_CASE_OPENED,
    COMPLAINT_CASE_TRANSITIONED,
    COMPLAINT_CASE_OVERDUE,
    IMPROVEMENT_ACTION_CREATED,
    IMPROVEMENT_ACTION_TRANSITIONED,
    IMPROVEMENT_ACTION_EVALUATED,
    IMPROVEMENT_ACTION_UPDATED,
    ANALYSIS_MEETING_RECORDED,
    SITE_NAMED,
    PROGRAMME_NAMED,
    PERSON_NAMED,
    SUBJECT_ERASURE_REQUESTED,
    COLLECTION_PLAN_PUBLISHED,
    SOLICITATION_PLANNED,
    SOLICITATION_SENT,
    SOLICITATION_REMINDED,
    SOLICITATION_ANSWERED,
    SOLICITATION_EXPIRED,
)

EXAMPLES: Mapping[str, AnyEvent] = MappingProxyType({event.type: event for event in _ALL})
"""The example of each event type, keyed by CloudEvents ``type``."""


def example(event_type: str) -> AnyEvent:
    """The example event of ``event_type`` (e.g. ``fr.boucle.feedback.….v1``)."""
    try:
        return EXAMPLES[event_type]
    except KeyError:
        raise KeyError(f"no example event for type {event_type!r}") from None


def example_of(event_class: type[EventT]) -> EventT:
    """The example event of a concrete event class, typed as that class."""
    event = example(event_class.EVENT_TYPE)
    if not isinstance(event, event_class):
        raise TypeError(f"example of {event_class.EVENT_TYPE} is a {type(event).__name__}")
    return event
