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
class EvaluationView:
    """One effectiveness evaluation: the KPI before and after the measures, with n."""

    at: datetime
    outcome: str  # effective, not_effective, inconclusive
    before_value: float | None
    before_size: int
    after_value: float | None
    after_size: int
    note: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> EvaluationView:
        return cls(
            at=datetime.fromisoformat(str(data["at"])),
            outcome=data["outcome"],
            before_value=data.get("before_value"),
            before_size=int(data.get("before_size", 0)),
            after_value=data.get("after_value"),
            after_size=int(data.get("after_size", 0)),
            note=data.get("note", ""),
        )


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _last_move_to(history: Any, status: str) -> datetime | None:
    """When the action last entered ``status`` (being created in it counts), from its history."""
    moments = [_moment(h.get("at")) for h in history if h.get("to_status") == status]
    found = [m for m in moments if m is not None]
    return found[-1] if found else None


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
    # (at, actor, note, kind, to_status): what happened, by whom, to which status if moved
    history_notes: tuple[tuple[datetime, str, str | None, str, str | None], ...] = field(default=())
    origin: str = "manual"
    evidence: Mapping[str, Any] | None = None  # the problem an automatic draft was made from
    documents: tuple[str, ...] = field(default=())
    evaluations: tuple[EvaluationView, ...] = field(default=())
    evaluate_after: datetime | None = None
    meeting_id: str | None = None
    proposed_at: datetime | None = None  # when it was last proposed for validation
    done_at: datetime | None = None  # when the measures were last reported done
    # (who, when, how): the stakeholders told of what was done ("vous nous avez dit…")
    informed: tuple[tuple[str, datetime, str], ...] = field(default=())

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
                (
                    datetime.fromisoformat(str(h["at"])),
                    h["actor"],
                    h.get("note"),
                    h["kind"],
                    h.get("to_status"),
                )
                for h in data.get("history", ())
            ),
            origin=data.get("origin", "manual"),
            evidence=data.get("evidence"),
            documents=tuple(data.get("documents", ())),
            evaluations=tuple(EvaluationView.from_api(e) for e in data.get("evaluations", ())),
            evaluate_after=_moment(data.get("evaluate_after")),
            meeting_id=data.get("meeting_id"),
            proposed_at=_last_move_to(data.get("history", ()), "proposed"),
            done_at=_last_move_to(data.get("history", ()), "done"),
            informed=tuple(
                (n["who"], datetime.fromisoformat(str(n["when"])), n["how"])
                for n in data.get("stakeholders_informed", ())
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


COMPLETED = frozenset({"done", "effective"})


def completed_for(actions: list[ActionView], site_id: str) -> list[ActionView]:
    """The site's actions whose measures are done (or proved effective), latest first: what
    a « vous nous avez dit, nous avons agi » note tells."""
    found = [a for a in actions if a.site_id == site_id and a.status in COMPLETED]
    return sorted(found, key=lambda a: a.done_at or a.created_at, reverse=True)


def by_status(actions: list[ActionView]) -> list[ActionView]:
    """Plans waiting for validation first, then by the lifecycle's order, newest first within."""
    rank = {status: n for n, status in enumerate(ORDER)}
    newest = sorted(actions, key=lambda a: a.created_at, reverse=True)
    return sorted(newest, key=lambda a: rank.get(a.status, len(ORDER)))


# What a site manager (or the quality lead) may move an action to, from where it stands:
# the measures' progress. Validation is the direction's; effectiveness is concluded by the
# evaluation only (the actions service refuses the rest anyway).
PROGRESS: dict[str, tuple[str, ...]] = {
    "validated": ("in_progress",),
    "reopened": ("in_progress",),
    "in_progress": ("done",),
}
EVALUABLE = frozenset({"done", "not_effective"})


def next_progress(action: ActionView) -> tuple[str, ...]:
    return PROGRESS.get(action.status, ())


UNDER_WAY = frozenset({"validated", "in_progress", "done", "not_effective", "reopened"})


def may_attach_evidence(action: ActionView) -> bool:
    """Evidence of the measures, once the plan is validated (until it is concluded)."""
    return action.status in UNDER_WAY


def may_request_evaluation(action: ActionView) -> bool:
    """Once the measures are done: the KPI before vs after (the actions service computes it)."""
    return action.status in EVALUABLE
