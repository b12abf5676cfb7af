"""Analysis meetings as the console shows them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class MeetingView:
    meeting_id: str
    kind: str  # analysis, course_review
    held_at: datetime
    title: str
    site_id: str | None
    attendees: tuple[str, ...]
    data_reviewed: tuple[str, ...]
    decisions: tuple[str, ...]
    recorded_by: str
    action_ids: tuple[str, ...] = field(default=())

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> MeetingView:
        return cls(
            meeting_id=data["meeting_id"],
            kind=data.get("kind", "analysis"),
            held_at=datetime.fromisoformat(str(data["held_at"])),
            title=data["title"],
            site_id=data.get("site_id"),
            attendees=tuple(data.get("attendees", ())),
            data_reviewed=tuple(data.get("data_reviewed", ())),
            decisions=tuple(data.get("decisions", ())),
            recorded_by=data.get("recorded_by", ""),
            action_ids=tuple(data.get("action_ids", ())),
        )


def newest_first(meetings: list[MeetingView]) -> list[MeetingView]:
    return sorted(meetings, key=lambda m: m.held_at, reverse=True)
