"""Improvement actions as the console shows them, and what a person may do with one. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

ORDER = (
    "proposed",
    "draft",
    "reopened",
    "validated",
    "in_progress",
    "done",
    "not_effective",
    "effective",
    "cancelled",
)


@dataclass(frozen=True, slots=True)
class ActionView:
    action_id: str
    site_id: str | None
    title: str
    problem: str
    objective: str | None
    measures: tuple[str, ...]
    owner: str | None
    due_date: date | None
    priority: str
    status: str
    revision: int
    created_at: datetime
    validated_by: str | None = None
    comments: tuple[tuple[str, datetime, str], ...] = field(default=())
    history_notes: tuple[tuple[datetime, str, str | None, str], ...] = field(default=())

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ActionView:
        validation = data.get("validation") or {}
        due = data.get("due_date")
        return cls(
            action_id=data["action_id"],
            site_id=data.get("site_id"),
            title=data["title"],
            problem=data["problem"],
            objective=data.get("objective"),
            measures=tuple(data.get("measures", ())),
            owner=data.get("owner"),
            due_date=date.fromisoformat(due) if isinstance(due, str) else due,
            priority=data.get("priority", "medium"),
            status=data["status"],
            revision=data["revision"],
            created_at=datetime.fromisoformat(str(data["created_at"])),
            validated_by=validation.get("by"),
            comments=tuple(
                (c["by"], datetime.fromisoformat(str(c["at"])), c["text"])
                for c in data.get("comments", ())
            ),
            history_notes=tuple(
                (datetime.fromisoformat(str(h["at"])), h["actor"], h.get("note"), h["kind"])
                for h in data.get("history", ())
            ),
        )

    @property
    def awaiting_validation(self) -> bool:
        return self.status == "proposed"

    @property
    def missing_for_validation(self) -> tuple[str, ...]:
        """What the actions service will ask for before validating (owner, due date, measures)."""
        missing = []
        if not self.owner:
            missing.append("owner")
        if self.due_date is None:
            missing.append("due_date")
        if not self.measures:
            missing.append("measures")
        return tuple(missing)


def by_status(actions: list[ActionView]) -> list[ActionView]:
    """Plans waiting for validation first, then by the lifecycle's order, newest first within."""
    rank = {status: n for n, status in enumerate(ORDER)}
    newest = sorted(actions, key=lambda a: a.created_at, reverse=True)
    return sorted(newest, key=lambda a: rank.get(a.status, len(ORDER)))
