"""Incidents open cases announced exactly once; analyzer snapshots kept newest-first."""

from __future__ import annotations

from datetime import datetime

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from boucle_actions.domain.cases import Deadlines, case_id_for, deadlines_of
from boucle_actions.handlers import CaseIntake, KpiIntake, subscribe
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts import kafka as wire
from boucle_contracts.cases.v1 import CaseSource, ComplaintCaseOpened, ComplaintCaseOpenedV1
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1, IncidentKind
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated, ScopeMetricsUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

COMPLAINT = example_of(ComplaintReceivedV1)
HAZARD = example_of(HazardReportedV1)
SNAPSHOT = example_of(ScopeMetricsUpdatedV1)


class InMemoryCases:
    """CaseRepository with MongoCaseRepository's semantics: insert once, flag announced."""

    def __init__(self) -> None:
        self.cases: dict[str, tuple[ComplaintCaseOpened, str, str | None, bool]] = {}

    async def open(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        self.cases.setdefault(case.case_id, (case, network_id, site_id, False))

    async def unannounced(self, *, case_id: str) -> bool:
        return case_id in self.cases and not self.cases[case_id][3]

    async def mark_announced(self, *, case_id: str) -> None:
        case, network_id, site_id, _ = self.cases[case_id]
        self.cases[case_id] = (case, network_id, site_id, True)

    async def list_for(
        self, *, network_id: str, site_id: str | None = None
    ) -> list[ComplaintCaseOpened]:
        return [
            case
            for case, network, site, _ in self.cases.values()
            if network == network_id and (site_id is None or site == site_id)
        ]


class InMemoryKpis:
    def __init__(self) -> None:
        self.snapshots: dict[str, ScopeMetricsUpdated] = {}

    async def keep_latest(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        stored = self.snapshots.get(snapshot.key)
        if stored is not None and stored.revision >= snapshot.revision:
            return False
        self.snapshots[snapshot.key] = snapshot
        return True

    async def snapshots_for(
        self, *, network_id: str, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        return [s for s in self.snapshots.values() if s.scope.network_id == network_id]

    async def data_until(self, *, network_id: str) -> datetime | None:
        ends = [s.period.end for s in await self.snapshots_for(network_id=network_id)]
        return max(ends, default=None)


class FixedDeadlines:
    """DeadlineSettings with the defaults for every network."""

    async def deadlines_for(self, *, network_id: str) -> Deadlines:
        return deadlines_of(48, 15)

    async def set_deadlines(self, *, network_id: str, deadlines: Deadlines) -> None:
        raise NotImplementedError


class Sink:
    def __init__(self, failures: int = 0) -> None:
        self.events: list[AnyEvent] = []
        self.failures = failures

    async def publish(self, event: AnyEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("kafka unavailable")
        self.events.append(event)

    def announcements(self) -> list[ComplaintCaseOpenedV1]:
        assert all(isinstance(e, ComplaintCaseOpenedV1) for e in self.events)
        return [e for e in self.events if isinstance(e, ComplaintCaseOpenedV1)]


class Actions:
    def __init__(self, sink: Sink | None = None) -> None:
        self.cases = InMemoryCases()
        self.kpis = InMemoryKpis()
        self.sink = sink or Sink()
        self.registry = CollectorRegistry()
        metrics = ActionsMetrics(self.registry)
        self.intake = CaseIntake(
            cases=self.cases, publisher=self.sink, deadlines=FixedDeadlines(), metrics=metrics
        )
        self.kpi_intake = KpiIntake(kpis=self.kpis, metrics=metrics)

    def opened(self, source: str) -> float:
        value = self.registry.get_sample_value(
            "boucle_actions_cases_opened_total", {"source": source}
        )
        return value or 0.0

    def kpi_outcomes(self, outcome: str) -> float:
        value = self.registry.get_sample_value(
            "boucle_actions_kpi_snapshots_total", {"outcome": outcome}
        )
        return value or 0.0


async def test_a_complaint_opens_one_case_announced_once() -> None:
    actions = Actions()

    case = await actions.intake.on_incident(COMPLAINT)

    (announcement,) = actions.sink.announcements()
    assert announcement.data == case
    assert case.case_id == case_id_for(COMPLAINT.id)
    assert announcement.causation_id == COMPLAINT.id
    assert announcement.correlation_id == COMPLAINT.correlation_id
    assert (announcement.network_id, announcement.site_id) == (
        COMPLAINT.network_id,
        COMPLAINT.site_id,
    )
    assert announcement.subject == f"case/{case.case_id}"
    assert set(actions.cases.cases) == {case.case_id}
    assert await actions.cases.unannounced(case_id=case.case_id) is False
    assert actions.opened("complaint") == 1


async def test_a_redelivered_complaint_announces_nothing_more() -> None:
    actions = Actions()
    first = await actions.intake.on_incident(COMPLAINT)

    again = await actions.intake.on_incident(COMPLAINT)

    assert again == first
    assert len(actions.sink.events) == 1
    assert len(actions.cases.cases) == 1
    assert actions.opened("complaint") == 1


async def test_when_the_announcement_fails_the_redelivery_announces_it_with_the_same_id() -> None:
    actions = Actions(Sink(failures=1))

    with pytest.raises(ConnectionError):
        await actions.intake.on_incident(COMPLAINT)
    case_id = case_id_for(COMPLAINT.id)
    assert await actions.cases.unannounced(case_id=case_id) is True
    assert actions.opened("complaint") == 0

    await actions.intake.on_incident(COMPLAINT)  # NACK_ON_ERROR: the message comes again
    await actions.intake.on_incident(COMPLAINT)

    (announcement,) = actions.sink.announcements()
    assert announcement.data.case_id == case_id
    assert await actions.cases.unannounced(case_id=case_id) is False
    assert actions.opened("complaint") == 1


async def test_the_announcement_id_is_the_same_on_every_attempt() -> None:
    # A crash after publishing but before marking: two publications, one id downstream.
    first, second = Actions(), Actions()

    await first.intake.on_incident(COMPLAINT)
    await second.intake.on_incident(COMPLAINT)

    assert first.sink.events[0].id == second.sink.events[0].id
    assert first.sink.events[0].id != COMPLAINT.id


async def test_two_complaints_open_two_cases() -> None:
    actions = Actions()
    other = COMPLAINT.model_copy(update={"id": "evt-other-complaint"})

    await actions.intake.on_incident(COMPLAINT)
    await actions.intake.on_incident(other)

    announcements = actions.sink.announcements()
    assert len({a.data.case_id for a in announcements}) == 2
    assert len({a.id for a in announcements}) == 2
    assert actions.opened("complaint") == 2


@pytest.mark.parametrize(
    ("kind", "source"),
    [(IncidentKind.HAZARD, CaseSource.HAZARD), (IncidentKind.DIFFICULTY, CaseSource.DIFFICULTY)],
)
async def test_a_hazard_or_difficulty_opens_a_case_of_its_kind(
    kind: IncidentKind, source: CaseSource
) -> None:
    actions = Actions()
    incident = HAZARD.model_copy(update={"data": HAZARD.data.model_copy(update={"kind": kind})})

    case = await actions.intake.on_incident(incident)

    assert case.source is source
    assert case.acknowledge_due_at is None
    (announcement,) = actions.sink.announcements()
    assert announcement.causation_id == HAZARD.id
    assert actions.opened(source.value) == 1


async def test_only_newer_snapshot_revisions_are_kept() -> None:
    actions = Actions()
    revision = SNAPSHOT.data.revision
    older = SNAPSHOT.model_copy(
        update={"data": SNAPSHOT.data.model_copy(update={"revision": revision - 1})}
    )
    newer = SNAPSHOT.model_copy(
        update={"data": SNAPSHOT.data.model_copy(update={"revision": revision + 1})}
    )

    outcomes = [
        await actions.kpi_intake.on_snapshot(event) for event in (SNAPSHOT, older, SNAPSHOT, newer)
    ]

    assert outcomes == [True, False, False, True]
    assert actions.kpis.snapshots[SNAPSHOT.data.key].revision == revision + 1
    assert (actions.kpi_outcomes("stored"), actions.kpi_outcomes("stale")) == (2, 2)


async def test_the_subscriber_routes_incidents_to_cases_and_snapshots_to_kpis() -> None:
    actions = Actions()
    settings = ServiceSettings(topic_prefix="unit.")
    broker = KafkaBroker()
    consumers = Consumers(broker, settings, group="boucle-actions", registry=CollectorRegistry())
    subscribe(consumers, actions.intake, actions.kpi_intake)
    consumers.attach()

    async with TestKafkaBroker(broker) as br:
        for event in (COMPLAINT, HAZARD, SNAPSHOT):
            await br.publish(
                event.to_json_bytes(),
                topic=settings.topic(event.TOPIC),
                headers=wire.headers_for(event),
            )

    assert {a.causation_id for a in actions.sink.announcements()} == {COMPLAINT.id, HAZARD.id}
    assert set(actions.kpis.snapshots) == {SNAPSHOT.data.key}
