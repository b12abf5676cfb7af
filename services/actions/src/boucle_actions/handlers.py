"""The Kafka subscriber, contract in, domain, contract out: incidents open cases, analyzer
figures feed KPIs, problems (or, with ``draft_per_problem`` off, degradations) become draft
actions. (The periodic sweep is ``sweeper``.)
"""

from __future__ import annotations

import uuid

from boucle_actions.domain.actions import Action
from boucle_actions.domain.cases import open_complaint_case, open_incident_case
from boucle_actions.domain.ports import CaseRepository, DeadlineSettings, KpiRepository
from boucle_actions.metrics import ActionsMetrics
from boucle_actions.usecases.actions import ActionWorkflow
from boucle_contracts.cases.v1 import ComplaintCaseOpened, ComplaintCaseOpenedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_runtime.consumer import Consumers
from boucle_runtime.erasure import ErasureFollower
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
ANNOUNCEMENT_NAMESPACE = uuid.UUID("5c1d2e3f-4a5b-5c6d-8e7f-8091a2b3c4d5")


class CaseIntake:
    """Every complaint, hazard and difficulty gets exactly one case, announced exactly once.

    The case is stored first with ``announced: false``; the announcement is published,
    then the flag is set. A crash in between re-publishes on redelivery, with the same
    event id, so downstream consumers still see one opening.
    """

    def __init__(
        self,
        *,
        cases: CaseRepository,
        publisher: EventSink,
        deadlines: DeadlineSettings,
        metrics: ActionsMetrics,
    ) -> None:
        self._cases = cases
        self._publisher = publisher
        self._deadlines = deadlines
        self._metrics = metrics

    async def on_incident(
        self, event: ComplaintReceivedV1 | HazardReportedV1
    ) -> ComplaintCaseOpened:
        deadlines = await self._deadlines.deadlines_for(network_id=event.network_id)
        if isinstance(event, ComplaintReceivedV1):
            case = open_complaint_case(event.id, event.data, deadlines)
        else:
            case = open_incident_case(event.id, event.data, deadlines)
        await self._cases.open(case=case, network_id=event.network_id, site_id=event.site_id)
        if await self._cases.unannounced(case_id=case.case_id):
            announcement = ComplaintCaseOpenedV1.create(
                data=case,
                source="/actions/cases",
                event_id=str(uuid.uuid5(ANNOUNCEMENT_NAMESPACE, case.case_id)),
                subject=f"case/{case.case_id}",
                **event.caused(),
            )
            await self._publisher.publish(announcement)
            await self._cases.mark_announced(case_id=case.case_id)
            self._metrics.cases_opened.labels(case.source.value).inc()
            log.info("case_opened", case_id=case.case_id, source=case.source.value)
        return case


class KpiIntake:
    def __init__(self, *, kpis: KpiRepository, metrics: ActionsMetrics) -> None:
        self._kpis = kpis
        self._metrics = metrics

    async def on_snapshot(self, event: ScopeMetricsUpdatedV1) -> bool:
        stored = await self._kpis.keep_latest(snapshot=event.data)
        self._metrics.kpi_snapshots.labels("stored" if stored else "stale").inc()
        return stored


class DegradationIntake:
    """A detected degradation becomes one draft action (a person accepts it or not); its
    resolution is noted on the draft while nobody has decided yet."""

    def __init__(self, *, actions: ActionWorkflow, metrics: ActionsMetrics) -> None:
        self._actions = actions
        self._metrics = metrics

    async def on_resolution(self, event: DegradationResolvedV1) -> None:
        await self._actions.note_resolution(event)

    async def on_degradation(self, event: DegradationDetectedV1) -> Action:
        draft, made = await self._actions.draft_from(event)
        if made:
            self._metrics.drafts.inc()
            log.info("action_drafted", action_id=draft.action_id)
        return draft


class ProblemIntake:
    """A problem (degradations grouped by cause) becomes one draft action; its updates and
    its resolution are noted on the draft while nobody has decided yet."""

    def __init__(self, *, actions: ActionWorkflow, metrics: ActionsMetrics) -> None:
        self._actions = actions
        self._metrics = metrics

    async def on_problem(self, event: ProblemOpenedV1) -> Action:
        draft, made = await self._actions.draft_from_problem(event)
        if made:
            self._metrics.drafts.inc()
            log.info("action_drafted", action_id=draft.action_id, problem_id=event.data.problem_id)
        return draft

    async def on_change(self, event: ProblemUpdatedV1 | ProblemResolvedV1) -> None:
        await self._actions.note_problem(event)


def subscribe(
    consumers: Consumers,
    cases: CaseIntake,
    kpis: KpiIntake,
    degradations: DegradationIntake | None = None,
    problems: ProblemIntake | None = None,
    *,
    erasure: ErasureFollower | None = None,
) -> None:
    """One subscriber for every handled type. Drafts come from problems when ``problems``
    is given (the default service), else from degradations (the setting off); erasure
    requests are carried out when ``erasure`` is given."""
    handled: list[type[AnyEvent]] = [ComplaintReceivedV1, HazardReportedV1, ScopeMetricsUpdatedV1]
    if erasure is not None:
        handled.append(SubjectErasureRequestedV1)
    if degradations is not None:
        handled += [DegradationDetectedV1, DegradationResolvedV1]
    if problems is not None:
        handled += [ProblemOpenedV1, ProblemUpdatedV1, ProblemResolvedV1]

    @consumers.subscriber(handles=handled)
    async def on_event(
        event: ComplaintReceivedV1
        | HazardReportedV1
        | ScopeMetricsUpdatedV1
        | DegradationDetectedV1
        | DegradationResolvedV1
        | ProblemOpenedV1
        | ProblemUpdatedV1
        | ProblemResolvedV1
        | SubjectErasureRequestedV1,
    ) -> None:
        if isinstance(event, SubjectErasureRequestedV1):
            if erasure is not None:
                await erasure.on_request(event)
        elif isinstance(event, ScopeMetricsUpdatedV1):
            await kpis.on_snapshot(event)
        elif isinstance(event, ComplaintReceivedV1 | HazardReportedV1):
            await cases.on_incident(event)
        elif isinstance(event, ProblemOpenedV1):
            if problems is not None:
                await problems.on_problem(event)
        elif isinstance(event, ProblemUpdatedV1 | ProblemResolvedV1):
            if problems is not None:
                await problems.on_change(event)
        elif degradations is None:
            return
        elif isinstance(event, DegradationDetectedV1):
            await degradations.on_degradation(event)
        else:
            await degradations.on_resolution(event)
