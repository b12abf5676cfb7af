"""Event identity and envelope of incoming facts, and the intake handler's outcome."""

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
from boucle_collector.handlers import IntakeHandler, IntakeUnavailableError
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


# --- IntakeHandler ----------------------------------------------------------------------


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
    handler = IntakeHandler(publisher=sink, metrics=CollectorMetrics(registry), timeout_seconds=1)

    event = await handler.accept(SURVEY_RESPONSE, API, RESPONSE)

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
    handler = IntakeHandler(
        publisher=sink, metrics=CollectorMetrics(registry), timeout_seconds=0.02
    )

    with pytest.raises(IntakeUnavailableError, match=message):
        await asyncio.wait_for(handler.accept(SURVEY_RESPONSE, API, RESPONSE), timeout=2)

    labels = {"event_type": SurveyResponseSubmittedV1.EVENT_TYPE, "channel": "api"}
    assert _sample(registry, "boucle_collector_accepted_events_total", **labels) == 0
    rejected = _sample(
        registry, "boucle_collector_rejected_requests_total", reason="kafka_unavailable"
    )
    assert rejected == 1
