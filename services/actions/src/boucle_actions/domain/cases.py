"""Opening a complaint or incident case, with its deadlines (indicator 31). Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from boucle_contracts.cases.v1 import CaseSource, ComplaintCaseOpened
from boucle_contracts.incidents.v1 import ComplaintReceived, HazardReported, IncidentKind

CASE_ID_NAMESPACE = uuid.UUID("3a9e4c55-2f1b-5e7d-8c6a-1d2e3f405162")


@dataclass(frozen=True, slots=True)
class Deadlines:
    acknowledge_within: timedelta
    answer_within: timedelta


def case_id_for(source_event_id: str) -> str:
    """One case per incoming complaint or incident, whatever the redeliveries."""
    return f"case-{uuid.uuid5(CASE_ID_NAMESPACE, source_event_id)}"


def open_complaint_case(
    event_id: str, complaint: ComplaintReceived, deadlines: Deadlines
) -> ComplaintCaseOpened:
    return ComplaintCaseOpened(
        case_id=case_id_for(event_id),
        source=CaseSource.COMPLAINT,
        source_event_id=event_id,
        source_ref=complaint.complaint_id,
        opened_at=complaint.received_at,
        summary=complaint.subject,
        category=complaint.category_hint,
        acknowledge_due_at=complaint.received_at + deadlines.acknowledge_within,
        answer_due_at=complaint.received_at + deadlines.answer_within,
    )


def open_incident_case(
    event_id: str, incident: HazardReported, deadlines: Deadlines
) -> ComplaintCaseOpened:
    """Hazards and difficulties get a case too; only the answer deadline applies to them."""
    return ComplaintCaseOpened(
        case_id=case_id_for(event_id),
        source=CaseSource.HAZARD if incident.kind is IncidentKind.HAZARD else CaseSource.DIFFICULTY,
        source_event_id=event_id,
        source_ref=incident.incident_id,
        opened_at=incident.reported_at,
        summary=incident.summary,
        category=incident.category_hint,
        answer_due_at=incident.reported_at + deadlines.answer_within,
    )
