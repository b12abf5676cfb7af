"""``meetings``: each analysis meeting (réunion d'analyse, bilan de session) recorded, with
what it looked at and decided; the actions it led to name it (``meeting_id``). Pure."""

from __future__ import annotations

from boucle_contracts.actions.v1 import AnalysisMeetingRecordedV1
from boucle_reporter.domain.projection.write import Write, key, tenant


def meeting_recorded(event: AnalysisMeetingRecordedV1, _seq: int) -> list[Write]:
    meeting = event.data
    return [
        Write(
            "meetings",
            key(event, meeting.meeting_id),
            fields={
                **tenant(event),
                "meeting_id": meeting.meeting_id,
                "kind": meeting.kind,
                "held_at": meeting.held_at,
                "title": meeting.title,
                "attendees": list(meeting.attendees),
                "data_reviewed": list(meeting.data_reviewed),
                "decisions": list(meeting.decisions),
            },
        )
    ]
