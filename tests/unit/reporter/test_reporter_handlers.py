"""Every event is evidence; snapshots and case openings also shape the read model."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from boucle_contracts.cases.v1 import ComplaintCaseOpened, ComplaintCaseOpenedV1
from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated, ScopeMetricsUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import ScopeLevel
from boucle_reporter.handlers import EvidenceRecorder, subscribe
from boucle_reporter.metrics import ReporterMetrics
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit


class InMemoryReadModel:
    def __init__(self) -> None:
        self.evidence: dict[str, AnyEvent] = {}
        self.kept_analyses: list[ScopeMetricsUpdated] = []
        self.kept_cases: list[tuple[ComplaintCaseOpened, str, str | None]] = []

    async def record_evidence(self, *, event: AnyEvent) -> bool:
        if event.id in self.evidence:
            return False
        self.evidence[event.id] = event
        return True

    async def keep_analysis(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        self.kept_analyses.append(snapshot)
        return True

    async def keep_case(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        self.kept_cases.append((case, network_id, site_id))

    async def analyses(
        self,
        *,
        network_id: str,
        level: ScopeLevel,
        granularity: Granularity,
        site_id: str | None = None,
    ) -> list[ScopeMetricsUpdated]:
        return self.kept_analyses

    async def cases(
        self, *, network_id: str, site_id: str | None = None
    ) -> list[tuple[ComplaintCaseOpened, str | None, str]]:
        return [(case, site, "Reçue") for case, _, site in self.kept_cases]


def _recorder() -> tuple[EvidenceRecorder, InMemoryReadModel, CollectorRegistry]:
    read_model, registry = InMemoryReadModel(), CollectorRegistry()
    recorder = EvidenceRecorder(read_model=read_model, metrics=ReporterMetrics(registry))
    return recorder, read_model, registry


def _evidence(registry: CollectorRegistry, event_type: str, outcome: str) -> float:
    labels = {"event_type": event_type, "outcome": outcome}
    return registry.get_sample_value("boucle_reporter_evidence_events_total", labels) or 0.0


async def test_an_event_is_recorded_once_and_its_repetition_counted_as_duplicate() -> None:
    recorder, read_model, registry = _recorder()
    complaint = example_of(ComplaintReceivedV1)

    await recorder.on_event(complaint)
    await recorder.on_event(complaint)

    assert read_model.evidence == {complaint.id: complaint}
    assert _evidence(registry, complaint.type, "recorded") == 1
    assert _evidence(registry, complaint.type, "duplicate") == 1
    assert read_model.kept_analyses == []
    assert read_model.kept_cases == []


async def test_a_snapshot_feeds_the_analyses() -> None:
    recorder, read_model, _ = _recorder()
    snapshot = example_of(ScopeMetricsUpdatedV1)

    await recorder.on_event(snapshot)

    assert read_model.kept_analyses == [snapshot.data]


async def test_a_case_opening_feeds_the_cases_with_its_tenancy() -> None:
    recorder, read_model, _ = _recorder()
    opened = example_of(ComplaintCaseOpenedV1)

    await recorder.on_event(opened)

    assert read_model.kept_cases == [(opened.data, opened.network_id, opened.site_id)]


async def test_the_reporter_subscribes_to_every_event_of_every_topic() -> None:
    recorder, read_model, _ = _recorder()
    settings = ServiceSettings(topic_prefix="unit.")
    broker = KafkaBroker()
    consumers = Consumers(broker, settings, group="boucle-reporter", registry=CollectorRegistry())
    subscribe(consumers, recorder)
    consumers.attach()

    async with TestKafkaBroker(broker) as br:
        for event in EXAMPLES.values():
            await br.publish(event.to_json_bytes(), topic=settings.topic(event.TOPIC))

    assert read_model.evidence == {event.id: event for event in EXAMPLES.values()}
