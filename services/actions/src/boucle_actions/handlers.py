"""Contract in, domain, contract out: incidents open cases; analyzer figures feed KPIs."""

from __future__ import annotations

import uuid
from datetime import timedelta

from boucle_actions.domain.cases import Deadlines, open_complaint_case, open_incident_case
from boucle_actions.domain.ports import CaseRepository, KpiRepository
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts.cases.v1 import ComplaintCaseOpened, ComplaintCaseOpenedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_runtime.consumer import Consumers
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
        deadlines: Deadlines,
        metrics: ActionsMetrics,
    ) -> None:
        self._cases = cases
        self._publisher = publisher
        self._deadlines = deadlines
        self._metrics = metrics

    async def on_incident(
        self, event: ComplaintReceivedV1 | HazardReportedV1
    ) -> ComplaintCaseOpened:
        if isinstance(event, ComplaintReceivedV1):
            case = open_complaint_case(event.id, event.data, self._deadlines)
        else:
            case = open_incident_case(event.id, event.data, self._deadlines)
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


def deadlines_of(acknowledge_within_hours: int, answer_within_days: int) -> Deadlines:
    return Deadlines(timedelta(hours=acknowledge_within_hours), timedelta(days=answer_within_days))


def subscribe(consumers: Consumers, cases: CaseIntake, kpis: KpiIntake) -> None:
    @consumers.subscriber(handles=[ComplaintReceivedV1, HazardReportedV1, ScopeMetricsUpdatedV1])
    async def on_event(
        event: ComplaintReceivedV1 | HazardReportedV1 | ScopeMetricsUpdatedV1,
    ) -> None:
        if isinstance(event, ScopeMetricsUpdatedV1):
            await kpis.on_snapshot(event)
        else:
            await cases.on_incident(event)
