"""Opening complaint and incident cases, with their indicator-31 deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boucle_actions.domain.cases import (
    case_id_for,
    deadlines_of,
    open_complaint_case,
    open_incident_case,
)
from boucle_contracts.cases.v1 import CaseSource
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1, IncidentKind

pytestmark = pytest.mark.unit

DEADLINES = deadlines_of(acknowledge_within_hours=48, answer_within_days=15)
COMPLAINT = example_of(ComplaintReceivedV1)
HAZARD = example_of(HazardReportedV1)


def test_a_source_event_always_gets_the_same_case_id() -> None:
    assert case_id_for("evt-1") == case_id_for("evt-1")
    assert case_id_for("evt-1").startswith("case-")


def test_different_source_events_get_different_case_ids() -> None:
    ids = {case_id_for(f"evt-{n}") for n in range(100)}

    assert len(ids) == 100


def test_deadlines_of_converts_hours_and_days() -> None:
    assert DEADLINES.acknowledge_within == timedelta(hours=48)
    assert DEADLINES.answer_within == timedelta(days=15)


def test_a_complaint_case_is_due_48_hours_and_15_days_after_reception() -> None:
    received = datetime(2025, 3, 17, 10, 5, tzinfo=UTC)
    complaint = COMPLAINT.data.model_copy(update={"received_at": received})

    case = open_complaint_case(COMPLAINT.id, complaint, DEADLINES)

    assert case.acknowledge_due_at == datetime(2025, 3, 19, 10, 5, tzinfo=UTC)
    assert case.answer_due_at == datetime(2025, 4, 1, 10, 5, tzinfo=UTC)
    assert case.opened_at == received


def test_a_complaint_case_refers_to_its_complaint() -> None:
    case = open_complaint_case(COMPLAINT.id, COMPLAINT.data, DEADLINES)

    assert case.case_id == case_id_for(COMPLAINT.id)
    assert case.source is CaseSource.COMPLAINT
    assert case.source_event_id == COMPLAINT.id
    assert case.source_ref == COMPLAINT.data.complaint_id == "rec-2025-012"
    assert case.summary == COMPLAINT.data.subject
    assert case.category == "platform"


def test_deadlines_follow_the_configuration() -> None:
    case = open_complaint_case(COMPLAINT.id, COMPLAINT.data, deadlines_of(24, 30))

    received = COMPLAINT.data.received_at
    assert case.acknowledge_due_at == received + timedelta(days=1)
    assert case.answer_due_at == received + timedelta(days=30)


@pytest.mark.parametrize(
    ("kind", "source"),
    [(IncidentKind.HAZARD, CaseSource.HAZARD), (IncidentKind.DIFFICULTY, CaseSource.DIFFICULTY)],
)
def test_an_incident_case_has_only_an_answer_deadline(
    kind: IncidentKind, source: CaseSource
) -> None:
    incident = HAZARD.data.model_copy(update={"kind": kind})

    case = open_incident_case(HAZARD.id, incident, DEADLINES)

    assert case.source is source
    assert case.acknowledge_due_at is None
    assert case.answer_due_at == incident.reported_at + timedelta(days=15)
    assert case.opened_at == incident.reported_at != incident.occurred_at
    assert case.source_ref == incident.incident_id
    assert case.source_event_id == HAZARD.id
    assert case.summary == incident.summary
