"""How each event shapes the read model, as idempotent single-document writes. Pure.

``WRITERS`` is the one table of which event feeds which collection; each collection's
writers live in the module of that name (``counts``, ``analyses``, ``complaints``,
``incidents``, ``cases``, ``actions``, ``meetings``, ``degradations``, ``problems``,
``names``, ``solicitations``, ``collection_plans``), and what one write is in
``write``. Every document carries ``network_id`` and ``site_id``; every event with a site
also records the site in ``sites``. An event type
that is not in the table (a type newer than this table) leaves only that trace: it is
evidence all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from boucle_contracts.actions.v1 import (
    AnalysisMeetingRecordedV1,
    ImprovementActionCreatedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitionedV1,
    ImprovementActionUpdatedV1,
)
from boucle_contracts.cases.v1 import (
    ComplaintCaseOpenedV1,
    ComplaintCaseOverdueV1,
    ComplaintCaseTransitionedV1,
)
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.referential.v1 import PersonNamedV1, ProgrammeNamedV1, SiteNamedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_contracts.solicitations.v1 import (
    CollectionPlanPublishedV1,
    SolicitationAnsweredV1,
    SolicitationExpiredV1,
    SolicitationSentV1,
)
from boucle_contracts.training.v1 import (
    DropoutRecordedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
)
from boucle_reporter.domain.projection import (
    actions,
    analyses,
    cases,
    collection_plans,
    complaints,
    counts,
    degradations,
    incidents,
    meetings,
    names,
    problems,
    solicitations,
)
from boucle_reporter.domain.projection.write import Write, key, tenant

# (event of the key's class, its sequence number in the evidence log) -> its writes
Writer = Callable[[Any, int], list[Write]]

WRITERS: Mapping[type[AnyEvent], Writer] = {
    # counts
    SurveyResponseSubmittedV1: counts.survey_response,
    EnrolmentRecordedV1: counts.enrolment,
    SessionCompletedV1: counts.session_completed,
    DropoutRecordedV1: counts.dropout,
    # analyses
    ScopeMetricsUpdatedV1: analyses.site_month_figures,
    # complaints
    ComplaintReceivedV1: complaints.complaint_received,
    # incidents
    HazardReportedV1: incidents.hazard_reported,
    # cases
    ComplaintCaseOpenedV1: cases.case_opened,
    ComplaintCaseTransitionedV1: cases.case_transitioned,
    ComplaintCaseOverdueV1: cases.case_overdue,
    # actions
    ImprovementActionCreatedV1: actions.action_created,
    ImprovementActionTransitionedV1: actions.action_transitioned,
    ImprovementActionEvaluatedV1: actions.action_evaluated,
    ImprovementActionUpdatedV1: actions.action_updated,
    # meetings
    AnalysisMeetingRecordedV1: meetings.meeting_recorded,
    # names (referential)
    SiteNamedV1: names.site_named,
    ProgrammeNamedV1: names.programme_named,
    PersonNamedV1: names.person_named,
    # degradations
    DegradationDetectedV1: degradations.degradation_detected,
    DegradationResolvedV1: degradations.degradation_resolved,
    # problems
    ProblemOpenedV1: problems.problem_opened,
    ProblemUpdatedV1: problems.problem_updated,
    ProblemResolvedV1: problems.problem_resolved,
    # solicitations and collection plans (surveys service)
    CollectionPlanPublishedV1: collection_plans.plan_published,
    SolicitationSentV1: solicitations.solicitation_sent,
    SolicitationAnsweredV1: solicitations.solicitation_answered,
    SolicitationExpiredV1: solicitations.solicitation_expired,
}


def writer_of(event: AnyEvent) -> Writer | None:
    """The event's writer, also for a subclass of a type in the table."""
    return next((WRITERS[c] for c in type(event).__mro__ if c in WRITERS), None)


def writes_for(event: AnyEvent, seq: int) -> list[Write]:
    """The read-model writes of one event recorded at ``seq`` in its network's evidence log."""
    site = (
        [Write("sites", key(event, event.site_id), fields=tenant(event))] if event.site_id else []
    )
    writer = writer_of(event)
    return site + (writer(event, seq) if writer else [])
