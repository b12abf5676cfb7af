"""Every event is evidence, appended once; the read model is shaped from events only."""

from __future__ import annotations

import pytest
from bench.reporter.scenario import NETWORK, action, analysis, gap_events
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from boucle_contracts.actions.v1 import ImprovementActionUpdatedV1
from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.registry import AnyEvent
from boucle_reporter.adapters.memory import InMemoryEvidenceLog, InMemoryReadModel
from boucle_reporter.handlers import EvidenceRecorder, subscribe
from boucle_reporter.metrics import ReporterMetrics
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit


def _recorder() -> tuple[
    EvidenceRecorder, InMemoryEvidenceLog, InMemoryReadModel, CollectorRegistry
]:
    evidence, read_model, registry = InMemoryEvidenceLog(), InMemoryReadModel(), CollectorRegistry()
    recorder = EvidenceRecorder(
        evidence=evidence, read_model=read_model, metrics=ReporterMetrics(registry)
    )
    return recorder, evidence, read_model, registry


def _evidence(registry: CollectorRegistry, event_type: str, outcome: str) -> float:
    labels = {"event_type": event_type, "outcome": outcome}
    return registry.get_sample_value("boucle_reporter_evidence_events_total", labels) or 0.0


async def test_an_event_is_appended_once_and_its_repetition_counted_as_duplicate() -> None:
    recorder, evidence, _, registry = _recorder()
    complaint = example_of(ComplaintReceivedV1)

    await recorder.on_event(complaint)
    await recorder.on_event(complaint)

    chain = evidence.entries[complaint.network_id]
    assert [(e.seq, e.event_id) for e in chain] == [(1, complaint.id)]
    assert _evidence(registry, complaint.type, "recorded") == 1
    assert _evidence(registry, complaint.type, "duplicate") == 1


async def test_redelivering_a_whole_history_changes_nothing() -> None:
    recorder, evidence, read_model, _ = _recorder()
    for event in gap_events():
        await recorder.on_event(event)
    once = {name: dict(docs) for name, docs in read_model.collections.items()}
    chain = list(evidence.entries[NETWORK])

    for event in gap_events():
        await recorder.on_event(event)

    assert read_model.collections == once
    assert evidence.entries[NETWORK] == chain
    assert (await evidence.verify(network_id=NETWORK)).ok
    counts = read_model.collections["counts"]
    assert counts["reseau-test|lyon|2025-03|feedback"]["responses"] == {"learner": 4, "funder": 1}


async def test_an_older_revision_of_figures_does_not_replace_a_newer_one() -> None:
    recorder, _, read_model, _ = _recorder()
    newer = analysis("lyon", 3, responses=30, overall=4.0, platform=3.0)  # revision 3
    older = newer.model_copy(
        update={
            "id": "older",
            "data": newer.data.model_copy(update={"revision": 1, "responses": 1}),
        }
    )

    await recorder.on_event(newer)
    await recorder.on_event(older)

    (stored,) = read_model.collections["analyses"].values()
    assert (stored["revision"], stored["responses"]) == (3, 30)


async def test_the_reporter_subscribes_to_every_event_of_every_topic() -> None:
    recorder, evidence, _, _ = _recorder()
    settings = ServiceSettings(topic_prefix="unit.")
    broker = KafkaBroker()
    consumers = Consumers(broker, settings, group="boucle-reporter", registry=CollectorRegistry())
    subscribe(consumers, recorder)
    consumers.attach()

    async with TestKafkaBroker(broker) as br:
        for event in EXAMPLES.values():
            await br.publish(event.to_json_bytes(), topic=settings.topic(event.TOPIC))

    recorded = {e.event_id for chain in evidence.entries.values() for e in chain}
    assert recorded == {event.id for event in EXAMPLES.values()}


async def test_an_action_update_changes_owner_and_due_date_unless_older() -> None:
    recorder, _, read_model, _ = _recorder()
    created = action("lyon", "act-9", 3, kind="complaint", ref="rec-9", owner=None, due=None)
    update_class = ImprovementActionUpdatedV1

    def updated(revision: int, owner: str) -> AnyEvent:
        return update_class.model_validate(
            created.model_dump(by_alias=True)
            | {
                "id": f"upd-{revision}",
                "type": update_class.EVENT_TYPE,
                "dataschema": update_class.DATA_SCHEMA,
                "data": {
                    "action_id": "act-9",
                    "at": "2025-04-01T09:00:00Z",
                    "actor": "qualite",
                    "revision": revision,
                    "fields": ["owner", "due_date"],
                    "title": "Mesure act-9",
                    "owner": owner,
                    "due_date": "2025-06-30",
                },
            }
        )

    for event in (created, updated(2, "resp-b"), updated(1, "resp-a")):
        await recorder.on_event(event)

    stored = read_model.collections["actions"][f"{NETWORK}|act-9"]
    assert (stored["owner"], stored["due_date"], stored["revision"]) == ("resp-b", "2025-06-30", 2)
