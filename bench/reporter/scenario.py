"""A small, deterministic network history for the reporter's tests, with or without gaps.

``clean_events()``: one site (lyon) whose evidence is complete: monthly analyses, funder
feedback, a complaint answered in time that led to an action carried out and found
effective, a degradation addressed by an action. ``gap_events()`` adds a second site
(paris) with exactly one instance of each gap the readiness check looks for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from prometheus_client import CollectorRegistry

from boucle_contracts.actions.v1 import (
    ActionOrigin,
    ActionStatus,
    ImprovementActionCreated,
    ImprovementActionCreatedV1,
    ImprovementActionEvaluated,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitioned,
    ImprovementActionTransitionedV1,
    SourceRef,
)
from boucle_contracts.cases.v1 import (
    CaseSource,
    CaseStatus,
    ComplaintCaseOpened,
    ComplaintCaseOpenedV1,
    ComplaintCaseTransitioned,
    ComplaintCaseTransitionedV1,
)
from boucle_contracts.common import Period, RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import (
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
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import (
    DegradationDetected,
    DegradationDetectedV1,
    Metric,
    Observation,
    Severity,
    StatisticalTest,
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
from boucle_reporter.adapters.memory import InMemoryEvidenceLog, InMemoryReadModel
from boucle_reporter.handlers import EvidenceRecorder
from boucle_reporter.metrics import ReporterMetrics

NETWORK = "reseau-test"
CLEAN_SITE = "lyon"
GAP_SITE = "paris"
YEAR = 2025
PERIOD = (date(YEAR, 1, 1), date(YEAR + 1, 1, 1))
NOW = datetime(YEAR, 12, 20, 12, tzinfo=UTC)
SOURCE = "/tests/scenario"


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(YEAR, month, day, hour, tzinfo=UTC)


def month_period(month: int) -> Period:
    end = datetime(YEAR + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return Period(start=datetime(YEAR, month, 1, tzinfo=UTC), end=end)


def figures(dimension: str, count: int, mean: float, satisfied: int) -> DimensionFigures:
    return DimensionFigures(
        dimension=dimension,
        count=count,
        total=mean * count,
        total_squares=mean * mean * count,
        satisfied=satisfied,
    )


def analysis(site: str, month: int, responses: int, overall: float, platform: float) -> AnyEvent:
    return ScopeMetricsUpdatedV1.create(
        event_id=f"metrics-{site}-{month}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        time=month_period(month).end,
        data=ScopeMetricsUpdated(
            scope=Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=site),
            granularity=Granularity.MONTH,
            period=month_period(month),
            responses=responses,
            dimensions=(
                figures("overall", responses, overall, int(responses * (overall - 1) / 4)),
                figures("platform", responses, platform, int(responses * (platform - 1) / 4)),
            ),
            revision=3,
            last_event_id=f"resp-{site}-{month}",
        ),
    )


def response(site: str, month: int, role: RespondentRole, n: int) -> AnyEvent:
    return SurveyResponseSubmittedV1.create(
        event_id=f"resp-{site}-{month}-{role.value}-{n}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        time=at(month, 10 + n % 10),
        data=SurveyResponseSubmitted(
            response_id=f"r-{site}-{month}-{role.value}-{n}",
            survey_id="enquete",
            survey_kind=SurveyKind.HOT,
            respondent_role=role,
            submitted_at=at(month, 10 + n % 10),
            channel="api",
            answers=(ScaleAnswer(type="scale", question_id="q1", value=4),),
        ),
    )


def _site_life(site: str) -> list[AnyEvent]:
    """Figures, responses, enrolments and dropouts of one site (no gap in them)."""
    events: list[AnyEvent] = []
    for month in range(1, 13):
        dip = 2.4 if site == CLEAN_SITE and month in (3, 4) else 4.1
        events.append(analysis(site, month, 20 + month, 3.9 if dip > 3 else 2.9, dip))
    training = TrainingRef(programme_id="prog-1", session_id="s-1", trainer_ids=("t-1",))
    for n in range(4):
        events.append(response(site, 3, RespondentRole.LEARNER, n))
    events.append(response(site, 5, RespondentRole.TRAINER, 0))
    events.append(response(site, 6, RespondentRole.COMPANY, 0))
    for n in range(5):
        events.append(
            EnrolmentRecordedV1.create(
                event_id=f"enr-{site}-{n}",
                network_id=NETWORK,
                site_id=site,
                source=SOURCE,
                data=EnrolmentRecorded(
                    enrolment_id=f"enr-{site}-{n}",
                    learner_ref=f"l-{n}",
                    enrolled_at=at(2, 1 + n),
                    funding=FundingSource.OPCO,
                    funder_id="opco-atlas",
                    company_id="ent-1",
                    training=training,
                ),
            )
        )
    events.append(
        SessionCompletedV1.create(
            event_id=f"sess-{site}",
            network_id=NETWORK,
            site_id=site,
            source=SOURCE,
            data=SessionCompleted(
                session_id="s-1",
                programme_id="prog-1",
                completed_at=at(6, 30),
                learners_enrolled=5,
                learners_completed=4,
                trainer_ids=("t-1",),
            ),
        )
    )
    events.append(
        DropoutRecordedV1.create(
            event_id=f"drop-{site}",
            network_id=NETWORK,
            site_id=site,
            source=SOURCE,
            data=DropoutRecorded(
                enrolment_id=f"enr-{site}-4",
                learner_ref="l-4",
                dropped_at=at(4, 2),
                reason=DropoutReason.FOUND_EMPLOYMENT,
                training=training,
            ),
        )
    )
    return events


def complaint(site: str, ref: str, month: int, category: str = "platform") -> list[AnyEvent]:
    received = ComplaintReceivedV1.create(
        event_id=f"complaint-{ref}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=ComplaintReceived(
            complaint_id=ref,
            received_at=at(month, 3),
            channel=ReceptionChannel.EMAIL,
            complainant_role=StakeholderRole.LEARNER,
            subject="Plateforme instable",
            description="La plateforme coupe pendant les modules.",
            category_hint=category,
        ),
    )
    opened = ComplaintCaseOpenedV1.create(
        event_id=f"case-opened-{ref}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=ComplaintCaseOpened(
            case_id=f"case-{ref}",
            source=CaseSource.COMPLAINT,
            source_event_id=received.id,
            source_ref=ref,
            opened_at=at(month, 3, 10),
            summary="Plateforme instable",
            category=category,
            acknowledge_due_at=at(month, 5, 10),
            answer_due_at=at(month, 17, 10),
        ),
    )
    return [received, opened]


def case_step(
    site: str, ref: str, revision: int, to: CaseStatus, when: datetime, **extra: object
) -> AnyEvent:
    return ComplaintCaseTransitionedV1.create(
        event_id=f"case-{ref}-{revision}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=ComplaintCaseTransitioned.model_validate(
            {
                "case_id": f"case-{ref}",
                "from_status": CaseStatus.RECEIVED,
                "to_status": to,
                "at": when,
                "actor": "qualite",
                "revision": revision,
                **extra,
            }
        ),
    )


def action(
    site: str,
    action_id: str,
    month: int,
    *,
    kind: str,
    ref: str,
    owner: str | None = "resp-qualite",
    due: date | None = date(YEAR, 9, 30),
) -> AnyEvent:
    return ImprovementActionCreatedV1.create(
        event_id=f"action-{action_id}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=ImprovementActionCreated.model_validate(
            {
                "action_id": action_id,
                "origin": ActionOrigin.COMPLAINT_CASE
                if kind == "complaint"
                else ActionOrigin.DEGRADATION,
                "sources": (SourceRef.model_validate({"kind": kind, "ref": ref}),),
                "title": f"Mesure {action_id}",
                "problem": f"Problème traité par {action_id}",
                "scope": Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=site),
                "status": ActionStatus.VALIDATED,
                "owner": owner,
                "due_date": due,
                "created_at": at(month, 20),
                "created_by": "qualite",
            }
        ),
    )


def action_step(
    site: str, action_id: str, revision: int, to: ActionStatus, when: datetime
) -> AnyEvent:
    return ImprovementActionTransitionedV1.create(
        event_id=f"action-{action_id}-{revision}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=ImprovementActionTransitioned(
            action_id=action_id,
            from_status=ActionStatus.VALIDATED,
            to_status=to,
            at=when,
            actor="qualite",
            revision=revision,
        ),
    )


def evaluated(site: str, action_id: str, month: int, outcome: str) -> AnyEvent:
    return ImprovementActionEvaluatedV1.create(
        event_id=f"action-{action_id}-evaluated",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=ImprovementActionEvaluated.model_validate(
            {
                "action_id": action_id,
                "outcome": outcome,
                "metric": Metric.MEAN_SATISFACTION,
                "before": Observation(value=2.4, sample_size=40, period=month_period(3)),
                "after": Observation(value=4.1, sample_size=45, period=month_period(month)),
                "evaluated_at": at(month, 28),
            }
        ),
    )


def degradation(site: str, degradation_id: str, month: int) -> AnyEvent:
    return DegradationDetectedV1.create(
        event_id=f"degradation-{degradation_id}",
        network_id=NETWORK,
        site_id=site,
        source=SOURCE,
        data=DegradationDetected(
            degradation_id=degradation_id,
            scope=Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=site),
            metric=Metric.MEAN_SATISFACTION,
            dimension="platform",
            detected_at=at(month, 15),
            baseline=Observation(value=4.1, sample_size=80, period=month_period(1)),
            current=Observation(value=2.4, sample_size=23, period=month_period(month)),
            tests=(
                StatisticalTest(
                    name="welch_t", statistic=-5.2, p_value=0.0001, comparison="own_baseline"
                ),
            ),
            severity=Severity.HIGH,
        ),
    )


def clean_events() -> list[AnyEvent]:
    site = CLEAN_SITE
    events = _site_life(site)
    events.append(response(site, 3, RespondentRole.FUNDER, 0))
    events += complaint(site, "rec-1", 3)
    events.append(
        HazardReportedV1.create(
            event_id="hazard-1",
            network_id=NETWORK,
            site_id=site,
            source=SOURCE,
            data=HazardReported(
                incident_id="ale-1",
                kind=IncidentKind.HAZARD,
                occurred_at=at(3, 12),
                reported_at=at(3, 12, 10),
                reported_by_role=StakeholderRole.TRAINER,
                summary="Coupure de la plateforme pendant la classe virtuelle",
            ),
        )
    )
    events.append(action(site, "act-1", 3, kind="complaint", ref="rec-1"))
    events.append(case_step(site, "rec-1", 1, CaseStatus.ACKNOWLEDGED, at(3, 4)))
    events.append(
        case_step(
            site,
            "rec-1",
            2,
            CaseStatus.ANSWERED,
            at(3, 10),
            answer="Nous changeons d'hébergeur.",
            root_cause="Hébergeur saturé",
            action_ids=("act-1",),
        )
    )
    events.append(action_step(site, "act-1", 1, ActionStatus.IN_PROGRESS, at(4, 1)))
    events.append(action_step(site, "act-1", 2, ActionStatus.DONE, at(5, 15)))
    events.append(evaluated(site, "act-1", 6, "effective"))
    events.append(degradation(site, "deg-1", 3))
    events.append(action(site, "act-2", 3, kind="degradation", ref="deg-1"))
    events.append(action_step(site, "act-2", 1, ActionStatus.IN_PROGRESS, at(4, 2)))
    events.append(action_step(site, "act-2", 2, ActionStatus.DONE, at(6, 1)))
    events.append(evaluated(site, "act-2", 7, "not_effective"))
    return events


# The one instance of each gap that gap_events() adds, as (indicator, code, site, subject).
GAPS = (
    (30, "no_funder_feedback", GAP_SITE, GAP_SITE),
    (31, "complaint_unanswered", GAP_SITE, "rec-2"),
    (32, "action_no_owner", GAP_SITE, "act-3"),
    (32, "action_no_due", GAP_SITE, "act-4"),
    (32, "action_not_evaluated", GAP_SITE, "act-5"),
    (32, "degradation_no_action", GAP_SITE, "deg-2"),
)


def gap_events() -> list[AnyEvent]:
    site = GAP_SITE
    events = clean_events() + _site_life(site)
    events += complaint(site, "rec-2", 10, category="organisation")
    events.append(action(site, "act-3", 10, kind="complaint", ref="rec-2", owner=None))
    events.append(action(site, "act-4", 10, kind="complaint", ref="rec-2", due=None))
    events.append(action(site, "act-5", 8, kind="complaint", ref="rec-2"))
    events.append(action_step(site, "act-5", 1, ActionStatus.DONE, at(9, 1)))
    events.append(degradation(site, "deg-2", 11))
    return events


async def replayed(events: list[AnyEvent]) -> tuple[InMemoryEvidenceLog, InMemoryReadModel]:
    """The evidence log and read model the events leave, in memory (tests)."""
    evidence, read_model = InMemoryEvidenceLog(), InMemoryReadModel()
    recorder = EvidenceRecorder(
        evidence=evidence, read_model=read_model, metrics=ReporterMetrics(CollectorRegistry())
    )
    for event in events:
        await recorder.on_event(event)
    return evidence, read_model
