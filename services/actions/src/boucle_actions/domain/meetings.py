"""Analysis meetings (réunions d'analyse, bilans de session): evidence of step 2. Pure."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from boucle_contracts.actions.v1 import AnalysisMeetingRecorded
from boucle_contracts.common import Identifier, LongText, ShortText, Timestamp

MEETING_ID_NAMESPACE = uuid.UUID("1f6a9c2e-3b7d-5f80-9e1a-4c5d6e7f8091")


class MeetingRecord(BaseModel):
    """What was held: who met, what data they looked at, what they decided."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["analysis", "course_review"] = "analysis"
    held_at: Timestamp
    title: ShortText
    site_id: Identifier | None = Field(default=None, description="None for a network meeting.")
    attendees: tuple[ShortText, ...] = Field(
        min_length=1, description="Who took part: ids or roles, not names."
    )
    data_reviewed: tuple[ShortText, ...] = Field(
        default=(), description="Figures, reports, comments looked at."
    )
    decisions: tuple[LongText, ...] = ()


class Meeting(MeetingRecord):
    meeting_id: str
    network_id: str
    recorded_by: str
    recorded_at: datetime
    action_ids: tuple[str, ...] = Field(default=(), description="Actions created from it.")
    revision: int = 1


def meeting_id_for(network_id: str, request_id: str) -> str:
    return f"mtg-{uuid.uuid5(MEETING_ID_NAMESPACE, f'{network_id}/{request_id}')}"


def recorded_event(meeting: Meeting) -> AnalysisMeetingRecorded:
    return AnalysisMeetingRecorded(
        meeting_id=meeting.meeting_id,
        kind=meeting.kind,
        held_at=meeting.held_at,
        title=meeting.title,
        attendees=meeting.attendees,
        data_reviewed=meeting.data_reviewed,
        decisions=meeting.decisions,
        recorded_by=meeting.recorded_by,
    )
