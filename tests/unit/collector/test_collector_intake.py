"""Event identity and envelope of incoming facts, and the intake publisher's outcome."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from boucle_collector.domain.intake import (
    ALL_KINDS,
    COMPLAINT,
    HAZARD,
    SURVEY_RESPONSE,
    Intake,
    event_id_for,
)
from boucle_collector.intake_publisher import IntakePublisher, IntakeUnavailableError
from boucle_collector.metrics import CollectorMetrics
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1, IncidentKind
from boucle_contracts.registry import AnyEvent

pytestmark = pytest.mark.unit

BASE = {
    "network_id": "net-1",
    "site_id": "site-a",
    "event_type": SurveyResponseSubmittedV1.EVENT_TYPE,
    "natural_id": "typeform:r-1",
}
API = Intake(network_id="net-1", site_id="site-a", channel="api")
RESPONSE = example_of(SurveyResponseSubmittedV1).data


def test_the_same_fact_always_gets_the_same_uuid5_id() -> None:
    first, second = event_id_for(**BASE), event_id_for(**BASE)

    assert first == second
    assert uuid.UUID(first).version == 5


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("network_id", "net-2"),
        ("site_id", "site-b"),
        ("event_type", "fr.boucle.incidents.complaint_received.v1"),
        ("natural_id", "typeform:r-2"),
    ],
)
def test_a_different_network_site_type_or_natural_id_gives_another_id(
    field: str, other: str
) -> None:
    assert event_id_for(**(BASE | {field: other})) != event_id_for(**BASE)


def test_parts_of_the_identity_do_not_run_into_each_other() -> None:
    swapped = BASE | {"network_id": "site-a", "site_id": "net-1"}

    assert event_id_for(**swapped) != event_id_for(**BASE)


def test_a_resubmitted_response_keeps_its_id_even_if_its_content_changed() -> None:
    edited = RESPONSE.model_copy(
        update={"comments": (Comment(comment_id="c-2", text="Finalement, ça va mieux"),)}
    )

    assert (
        SURVEY_RESPONSE.envelope(edited, intake=API).id
        == SURVEY_RESPONSE.envelope(RESPONSE, intake=API).id
    )


def test_the_envelope_carries_tenancy_channel_and_subject() -> None:
    event = SURVEY_RESPONSE.envelope(RESPONSE, intake=API)

    assert isinstance(event, SurveyResponseSubmittedV1)
    assert (event.network_id, event.site_id) == ("net-1", "site-a")
    assert event.source == "/collector/api"
    assert event.subject == f"survey-response/{RESPONSE.response_id}"
    assert event.data == RESPONSE
    assert event.id == event_id_for(
        network_id="net-1",
        site_id="site-a",
        event_type=event.type,
        natural_id=RESPONSE.response_id,
    )


def test_the_same_response_received_for_another_site_is_another_event() -> None:
    other_site = Intake(network_id="net-1", site_id="site-b", channel="api")

    assert (
        SURVEY_RESPONSE.envelope(RESPONSE, intake=other_site).id
        != SURVEY_RESPONSE.envelope(RESPONSE, intake=API).id
    )


def test_the_channel_does_not_change_the_identity() -> None:
    webhook = Intake(network_id="net-1", site_id="site-a", channel="webhooks/typeform")

    event = SURVEY_RESPONSE.envelope(RESPONSE, intake=webhook)

    assert event.id == SURVEY_RESPONSE.envelope(RESPONSE, intake=API).id
    assert event.source == "/collector/webhooks/typeform"


@pytest.mark.parametrize(
    ("kind", "subject"),
    [(IncidentKind.HAZARD, "hazard/"), (IncidentKind.DIFFICULTY, "difficulty/")],
)
def test_an_incident_subject_names_its_kind(kind: IncidentKind, subject: str) -> None:
    hazard = example_of(HazardReportedV1).data.model_copy(update={"kind": kind})

    event = HAZARD.envelope(hazard, intake=API)

    assert event.subject == f"{subject}{hazard.incident_id}"


def test_a_complaint_is_identified_by_its_complaint_id() -> None:
    complaint = example_of(ComplaintReceivedV1).data
    renamed = complaint.model_copy(update={"complaint_id": "rec-other"})

    assert isinstance(COMPLAINT.envelope(complaint, intake=API), ComplaintReceivedV1)
    assert (
        COMPLAINT.envelope(complaint, intake=API).id != COMPLAINT.envelope(renamed, intake=API).id
    )


def test_every_kind_publishes_its_own_event_type() -> None:
    types = [kind.event_class.EVENT_TYPE for kind in ALL_KINDS]

    assert len(set(types)) == len(types) == 6


# --- IntakePublisher ----------------------------------------------------------------------


class ListSink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


class FailingSink:
    def __init__(self, error: Exception) -> None:
        self._error = error

    async def publish(self, event: AnyEvent) -> None:
        raise self._error


class HangingSink:
    async def publish(self, event: AnyEvent) -> None:
        await asyncio.Event().wait()


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_accepted_once_the_sink_has_the_event() -> None:
    registry, sink = CollectorRegistry(), ListSink()
    publisher = IntakePublisher(sink=sink, metrics=CollectorMetrics(registry), timeout_seconds=1)

    outcome = await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)

    event = outcome.event
    assert not outcome.duplicate
    assert sink.events == [event]
    labels = {"event_type": event.type, "channel": "api"}
    assert _sample(registry, "boucle_collector_accepted_events_total", **labels) == 1
    assert _sample(registry, "boucle_collector_publish_seconds_count") == 1


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        (FailingSink(ConnectionError("broker down")), "broker down"),
        (FailingSink(ConnectionError()), "ConnectionError"),
        (HangingSink(), "TimeoutError"),
    ],
    ids=["error", "error-without-message", "timeout"],
)
async def test_unavailable_when_the_sink_fails_or_hangs(sink: Any, message: str) -> None:
    registry = CollectorRegistry()
    publisher = IntakePublisher(sink=sink, metrics=CollectorMetrics(registry), timeout_seconds=0.02)

    with pytest.raises(IntakeUnavailableError, match=message):
        await asyncio.wait_for(publisher.accept(SURVEY_RESPONSE, API, RESPONSE), timeout=2)

    labels = {"event_type": SurveyResponseSubmittedV1.EVENT_TYPE, "channel": "api"}
    assert _sample(registry, "boucle_collector_accepted_events_total", **labels) == 0
    rejected = _sample(
        registry,
        "boucle_collector_rejected_requests_total",
        reason="kafka_unavailable",
        channel="api",
    )
    assert rejected == 1
    assert (
        sum(
            s.value
            for m in registry.collect()
            if m.name == "boucle_collector_kafka_errors"
            for s in m.samples
            if s.name.endswith("_total")
        )
        == 1
    )


async def test_a_redelivery_just_accepted_is_a_duplicate_and_is_not_published_again() -> None:
    registry, sink = CollectorRegistry(), ListSink()
    publisher = IntakePublisher(sink=sink, metrics=CollectorMetrics(registry), timeout_seconds=1)

    first = await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)
    second = await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)

    assert (first.duplicate, second.duplicate) == (False, True)
    assert (first.status, second.status) == ("accepted", "duplicate")
    assert second.event.id == first.event.id
    assert len(sink.events) == 1
    labels = {"event_type": first.event.type, "channel": "api"}
    assert _sample(registry, "boucle_collector_duplicate_events_total", **labels) == 1
    assert _sample(registry, "boucle_collector_accepted_events_total", **labels) == 1


async def test_concurrent_deliveries_of_one_response_publish_once() -> None:
    release = asyncio.Event()

    class SlowSink(ListSink):
        async def publish(self, event: AnyEvent) -> None:
            await release.wait()
            await super().publish(event)

    sink = SlowSink()
    publisher = IntakePublisher(
        sink=sink, metrics=CollectorMetrics(CollectorRegistry()), timeout_seconds=1
    )
    tasks = [
        asyncio.create_task(publisher.accept(SURVEY_RESPONSE, API, RESPONSE)) for _ in range(3)
    ]
    await asyncio.sleep(0.01)
    release.set()
    outcomes = await asyncio.gather(*tasks)

    assert sorted(o.duplicate for o in outcomes) == [False, True, True]
    assert len(sink.events) == 1


async def test_a_failed_publication_is_not_remembered_so_the_retry_publishes() -> None:
    sink = FailingSink(ConnectionError("down"))
    publisher = IntakePublisher(
        sink=sink, metrics=CollectorMetrics(CollectorRegistry()), timeout_seconds=1
    )
    with pytest.raises(IntakeUnavailableError):
        await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)
    ok = ListSink()
    publisher._sink = ok  # the broker is back

    outcome = await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)

    assert not outcome.duplicate
    assert len(ok.events) == 1


async def test_the_oldest_ids_are_forgotten_beyond_the_capacity() -> None:
    sink = ListSink()
    publisher = IntakePublisher(
        sink=sink,
        metrics=CollectorMetrics(CollectorRegistry()),
        timeout_seconds=1,
        recent_ids=1,
    )
    other = RESPONSE.model_copy(update={"response_id": "other-response"})

    await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)
    await publisher.accept(SURVEY_RESPONSE, API, other)
    again = await publisher.accept(SURVEY_RESPONSE, API, RESPONSE)

    # Forgotten, hence published again, with the same id: consumers deduplicate on it.
    assert not again.duplicate
    assert [e.id for e in sink.events].count(again.event.id) == 2


async def test_contacts_in_free_text_are_redacted_before_publication() -> None:
    sink = ListSink()
    publisher = IntakePublisher(
        sink=sink, metrics=CollectorMetrics(CollectorRegistry()), timeout_seconds=1
    )
    complaint = example_of(ComplaintReceivedV1).data.model_copy(
        update={"description": "Rappelez-moi au 06 12 34 56 78 ou marie.dupont@exemple.fr"}
    )
    commented = RESPONSE.model_copy(
        update={"comments": (Comment(comment_id="c-1", text="Écrivez à jean@exemple.fr"),)}
    )

    await publisher.accept(COMPLAINT, API, complaint)
    await publisher.accept(SURVEY_RESPONSE, API, commented)

    published = " ".join(e.to_json_bytes().decode() for e in sink.events)
    assert "06 12 34 56 78" not in published
    assert "exemple.fr" not in published
    assert "Rappelez-moi au [téléphone masqué] ou [email masqué]" in published


async def test_a_mask_longer_than_the_number_it_hides_never_breaks_the_length_limit() -> None:
    sink = ListSink()
    publisher = IntakePublisher(
        sink=sink, metrics=CollectorMetrics(CollectorRegistry()), timeout_seconds=1
    )
    subject = ("x" * 485) + " 0612345678"  # 496 characters; masked, it would exceed 500
    complaint = example_of(ComplaintReceivedV1).data.model_copy(update={"subject": subject})

    await publisher.accept(COMPLAINT, API, complaint)

    (event,) = sink.events
    assert len(event.data.subject) == 500
    assert "0612345678" not in event.data.subject
    ComplaintReceivedV1.model_validate_json(event.to_json_bytes())  # still a valid event
