"""Improvement actions (indicator 32): what a quality lead expects, and their lifecycle. Pure.

draft → proposed → validated (by management) → in_progress → done → effective | not_effective;
not_effective → reopened (a new analysis) → proposed | in_progress; cancelled from any
step before done. ``effective`` and ``not_effective`` are only ever concluded by the
effectiveness evaluation, never set by hand. Every change is appended to the history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from boucle_actions.domain import wording
from boucle_actions.domain.cases import TransitionRefusedError
from boucle_contracts.actions.v1 import (
    ActionOrigin,
    ActionStatus,
    ImprovementActionCreated,
    ImprovementActionTransitioned,
    ImprovementActionUpdated,
    KpiTarget,
    Priority,
    SourceRef,
)
from boucle_contracts.actions.v1 import StakeholderNotice as Notice
from boucle_contracts.common import Identifier, LongText, ShortText, Timestamp
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import DegradationDetected, DegradationResolved, Metric

ACTION_ID_NAMESPACE = uuid.UUID("7d0e3b1c-9a4f-5e62-8b7d-2c4f6a8e0b13")
S = ActionStatus
# Transitions a person may ask for. EFFECTIVE / NOT_EFFECTIVE come from evaluate_action only.
ACTION_TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    S.DRAFT: frozenset({S.PROPOSED, S.CANCELLED}),
    S.PROPOSED: frozenset({S.VALIDATED, S.DRAFT, S.CANCELLED}),
    S.VALIDATED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DONE, S.CANCELLED}),
    S.DONE: frozenset({S.REOPENED}),
    S.EFFECTIVE: frozenset(),
    S.NOT_EFFECTIVE: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.PROPOSED, S.IN_PROGRESS, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}
EVALUATED = frozenset({S.EFFECTIVE, S.NOT_EFFECTIVE})
OPEN_ACTION_STATUSES = frozenset(S) - {S.EFFECTIVE, S.CANCELLED}
UNFINISHED = frozenset({S.DRAFT, S.PROPOSED, S.VALIDATED, S.IN_PROGRESS, S.REOPENED})
SYSTEM_ACTOR = "boucle-actions"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Validation(Frozen):
    by: str
    at: datetime


class StakeholderNotice(Frozen):
    who: str = Field(min_length=1, max_length=200, description="e.g. learners of the session")
    when: Timestamp
    how: str = Field(min_length=1, max_length=200, description="e.g. e-mail, display, meeting")


class Comment(Frozen):
    by: str
    at: datetime
    text: str = Field(min_length=1, max_length=5000)


class HistoryEntry(Frozen):
    at: datetime = Field(description="When the act happened.")
    actor: str
    kind: Literal["created", "updated", "transitioned", "evaluated", "linked"]
    from_status: ActionStatus | None = None
    to_status: ActionStatus | None = None
    fields: tuple[str, ...] = ()
    note: str | None = None
    recorded_at: datetime | None = Field(
        default=None, description="When it was recorded, if after the fact (else as ``at``)."
    )


# The acts an action's chronology follows: its creation and its moves. Edits and comments
# are written when convenient and do not hold later acts back.
ACTS = frozenset({"created", "transitioned", "evaluated"})


class Evaluation(Frozen):
    """The outcome of one effectiveness evaluation (details in the ImprovementActionEvaluated)."""

    at: datetime
    outcome: Literal["effective", "not_effective", "inconclusive"]
    metric: Metric
    before_value: float | None
    before_size: int
    after_value: float | None
    after_size: int
    p_value: float | None = None
    note: str


class ActionDetails(Frozen):
    """What a person writes about an action; every field may be edited while it is not closed."""

    title: str = Field(min_length=1, max_length=500)
    problem: str = Field(min_length=1, max_length=20_000)
    root_cause_analysis: str | None = Field(default=None, max_length=20_000)
    objective: str | None = Field(default=None, max_length=2_000)
    kpi: KpiTarget | None = None
    measures: tuple[LongText, ...] = ()
    owner: Identifier | None = None
    contributors: tuple[Identifier, ...] = ()
    due_date: date | None = None
    resources: str | None = Field(default=None, max_length=2_000)
    priority: Priority = Priority.MEDIUM
    stakeholders_informed: tuple[StakeholderNotice, ...] = ()
    documents: tuple[ShortText, ...] = Field(default=(), description="References to documents.")


class Action(ActionDetails):
    action_id: str
    network_id: str
    site_id: str | None = Field(description="The scope's site; None for network-wide actions.")
    scope: Scope
    origin: ActionOrigin
    sources: tuple[SourceRef, ...] = ()
    case_ids: tuple[str, ...] = ()
    meeting_id: str | None = None
    evidence: dict[str, Any] | None = Field(
        default=None, description="The degradation an automatic draft was made from."
    )
    status: ActionStatus = S.DRAFT
    revision: int = 1
    created_at: datetime
    created_by: str
    validation: Validation | None = None
    started_at: datetime | None = None
    done_at: datetime | None = None
    evaluate_after: datetime | None = None
    evaluations: tuple[Evaluation, ...] = ()
    comments: tuple[Comment, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    @property
    def last_act(self) -> datetime:
        """The date of the last act (creation, move, evaluation): a later act recorded
        after the fact is not dated before it."""
        return max([self.created_at, *(h.at for h in self.history if h.kind in ACTS)])

    def updated_event(
        self,
        *,
        actor: str,
        at: datetime,
        fields: tuple[str, ...],
        recorded_at: datetime | None = None,
    ) -> ImprovementActionUpdated:
        return ImprovementActionUpdated(
            action_id=self.action_id,
            at=at,
            actor=actor,
            revision=self.revision,
            fields=fields,
            title=self.title,
            owner=self.owner,
            due_date=self.due_date,
            priority=self.priority,
            kpi=self.kpi,
            measures=self.measures,
            root_cause_analysis=self.root_cause_analysis or None,
            recorded_at=recorded_at,
            objective=self.objective or None,
            stakeholders_informed=self._notices(),
        )

    def _notices(self) -> tuple[Notice, ...]:
        return tuple(Notice.model_validate(n.model_dump()) for n in self.stakeholders_informed)

    def created_event(self) -> ImprovementActionCreated:
        return ImprovementActionCreated(
            action_id=self.action_id,
            origin=self.origin,
            sources=self.sources,
            title=self.title,
            problem=self.problem,
            scope=self.scope,
            status=self.status,
            priority=self.priority,
            owner=self.owner,
            due_date=self.due_date,
            kpi=self.kpi,
            created_at=self.created_at,
            created_by=self.created_by,
            recorded_at=self.history[0].recorded_at if self.history else None,
            measures=self.measures,
            objective=self.objective or None,
            root_cause_analysis=self.root_cause_analysis or None,
            case_ids=self.case_ids,
            meeting_id=self.meeting_id,
        )


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes an action; only management may validate."""

    id: str
    may_validate: bool = False


def action_id_for(*parts: str) -> str:
    """Deterministic ids: the same request or degradation always makes the same action."""
    return f"act-{uuid.uuid5(ACTION_ID_NAMESPACE, '/'.join(parts))}"


def new_action(
    *,
    action_id: str,
    details: ActionDetails,
    scope: Scope,
    origin: ActionOrigin,
    actor: str,
    at: datetime,
    sources: tuple[SourceRef, ...] = (),
    case_ids: tuple[str, ...] = (),
    meeting_id: str | None = None,
    evidence: dict[str, Any] | None = None,
    status: ActionStatus = S.PROPOSED,
    recorded_at: datetime | None = None,
) -> Action:
    """``at``: when it was decided; ``recorded_at``: when it was recorded, if later."""
    if status not in (S.DRAFT, S.PROPOSED):
        raise TransitionRefusedError("an action starts as a draft or a proposal")
    return Action(
        **details.model_dump(include=set(ActionDetails.model_fields)),
        action_id=action_id,
        network_id=scope.network_id,
        site_id=scope.site_id,
        scope=scope,
        origin=origin,
        sources=sources,
        case_ids=case_ids,
        meeting_id=meeting_id,
        evidence=evidence,
        status=status,
        created_at=at,
        created_by=actor,
        history=(
            HistoryEntry(
                at=at, actor=actor, kind="created", to_status=status, recorded_at=recorded_at
            ),
        ),
    )


def draft_from_degradation(degradation: DegradationDetected, *, at: datetime) -> Action:
    """A draft a person must accept: the degradation's figures and tests attached as evidence."""
    scope = degradation.scope
    metric, aspect = degradation.metric, degradation.dimension
    baseline, current = degradation.baseline, degradation.current
    severity = wording.severity(degradation.severity.value)
    details = ActionDetails(
        title=f"{wording.drop(metric, aspect)} {wording.at_place(scope)}"[:500],
        problem=(
            wording.change(
                metric,
                aspect,
                (baseline.value, baseline.sample_size),
                (current.value, current.sample_size),
            )
            + f" {wording.at_place(scope)}. Gravité : {severity}. Analyse des causes à mener."
        ),
        kpi=KpiTarget(
            metric=degradation.metric,
            dimension=degradation.dimension,
            baseline=current.value,
            target=baseline.value,
        ),
        priority=(
            Priority.HIGH if degradation.severity.value in ("high", "critical") else Priority.MEDIUM
        ),
    )
    return new_action(
        action_id=action_id_for(
            "degradation", degradation.scope.network_id, degradation.degradation_id
        ),
        details=details,
        scope=scope,
        origin=ActionOrigin.DEGRADATION,
        actor=SYSTEM_ACTOR,
        at=at,
        sources=(SourceRef(kind="degradation", ref=degradation.degradation_id),),
        evidence=degradation.model_dump(mode="json"),
        status=S.DRAFT,
    )


def resolved_note(resolved: DegradationResolved) -> str:
    """What a resolved degradation says on the draft it made: ``Dégradation d résolue le
    12 mai 2025 : la satisfaction moyenne (plateforme) est revenue à 4,05 (n = 80).``"""
    metric = resolved.metric
    lasting = wording.subject(metric, resolved.dimension)
    back = "revenue" if wording.SUBJECTS["fr"][metric][1] else "revenu"
    return (
        f"Dégradation {resolved.degradation_id} résolue le "
        f"{wording.long_date(resolved.resolved_at.date())} : {lasting} est {back} à "
        f"{wording.value(metric, resolved.current.value)} (n = {resolved.current.sample_size})."
    )


def transition_action(
    action: Action,
    to: ActionStatus,
    *,
    actor: Actor,
    at: datetime,
    note: str | None = None,
    evaluation_window: timedelta = timedelta(days=28),
    recorded_at: datetime | None = None,
) -> tuple[Action, ImprovementActionTransitioned]:
    """The action after ``to``, and the event telling it; refuses what the lifecycle forbids.
    ``at``: when the act happened (validation, start and end dates follow it)."""
    if to in EVALUATED:
        raise TransitionRefusedError(
            f"{to.value} is concluded by the effectiveness evaluation only"
        )
    if to not in ACTION_TRANSITIONS[action.status]:
        raise TransitionRefusedError(f"a {action.status.value} action cannot become {to.value}")
    changes: dict[str, object] = {}
    if to is S.PROPOSED and actor.id == SYSTEM_ACTOR:
        raise TransitionRefusedError("a draft is accepted by a person")
    if to is S.VALIDATED:
        if not actor.may_validate:
            raise TransitionRefusedError("only management (a quality lead) validates an action")
        missing = [
            name
            for name, value in (
                ("owner", action.owner),
                ("due_date", action.due_date),
                ("measures", action.measures),
            )
            if not value
        ]
        if missing:
            raise TransitionRefusedError(f"a validated action needs {', '.join(missing)}")
        changes["validation"] = Validation(by=actor.id, at=at)
    if to is S.IN_PROGRESS:
        if action.status is S.REOPENED and action.validation is None:
            raise TransitionRefusedError("a reopened action goes back to validation first")
        changes["started_at"] = action.started_at or at
    if to is S.REOPENED and not note:
        raise TransitionRefusedError("reopening needs a note: what the new analysis is about")
    if to is S.PROPOSED and action.status is S.REOPENED:
        changes["validation"] = None  # the re-worked plan is validated again
    if to is S.DONE:
        changes["done_at"] = at
        changes["evaluate_after"] = at + evaluation_window
    return _moved(
        action, to, actor=actor.id, at=at, note=note, changes=changes, recorded_at=recorded_at
    )


def _moved(
    action: Action,
    to: ActionStatus,
    *,
    actor: str,
    at: datetime,
    note: str | None,
    changes: dict[str, object],
    kind: Literal["transitioned", "evaluated"] = "transitioned",
    recorded_at: datetime | None = None,
) -> tuple[Action, ImprovementActionTransitioned]:
    entry = HistoryEntry(
        at=at,
        actor=actor,
        kind=kind,
        from_status=action.status,
        to_status=to,
        note=note,
        recorded_at=recorded_at,
    )
    moved = action.model_copy(
        update={
            **changes,
            "status": to,
            "revision": action.revision + 1,
            "history": (*action.history, entry),
        }
    )
    event = ImprovementActionTransitioned(
        action_id=action.action_id,
        from_status=action.status,
        to_status=to,
        at=at,
        actor=actor,
        revision=moved.revision,
        note=note[:20_000] if note else None,
        owner=moved.owner,
        due_date=moved.due_date,
        recorded_at=recorded_at,
    )
    return moved, event


LOCKED = frozenset({S.EFFECTIVE, S.CANCELLED})


def update_action(
    action: Action,
    changes: dict[str, Any],
    *,
    actor: str,
    at: datetime,
    recorded_at: datetime | None = None,
) -> Action:
    """Edit the written fields (never status, scope or history); refused once closed."""
    if action.status in LOCKED:
        raise TransitionRefusedError(f"a {action.status.value} action is closed to edits")
    unknown = set(changes) - set(ActionDetails.model_fields)
    if unknown:
        raise TransitionRefusedError(f"fields not editable: {', '.join(sorted(unknown))}")
    details = ActionDetails.model_validate(
        {**ActionDetails.model_validate(action, from_attributes=True).model_dump(), **changes}
    )
    entry = HistoryEntry(
        at=at, actor=actor, kind="updated", fields=tuple(sorted(changes)), recorded_at=recorded_at
    )
    return action.model_copy(
        update={
            **{name: getattr(details, name) for name in changes},
            "revision": action.revision + 1,
            "history": (*action.history, entry),
        }
    )


def comment_action(
    action: Action, text: str, *, actor: str, at: datetime, recorded_at: datetime | None = None
) -> Action:
    comment = Comment(by=actor, at=at, text=text)
    entry = HistoryEntry(
        at=at, actor=actor, kind="updated", fields=("comments",), recorded_at=recorded_at
    )
    return action.model_copy(
        update={
            "comments": (*action.comments, comment),
            "revision": action.revision + 1,
            "history": (*action.history, entry),
        }
    )


def record_evaluation(
    action: Action,
    evaluation: Evaluation,
    *,
    next_evaluation: datetime | None,
    recorded_at: datetime | None = None,
) -> tuple[Action, list[ImprovementActionTransitioned]]:
    """Apply an evaluation (dated when it was made): effective closes; not effective
    re-opens for a new analysis."""
    if action.status is not S.DONE:
        raise TransitionRefusedError(
            f"only a done action is evaluated, not a {action.status.value} one"
        )
    evaluated = action.model_copy(
        update={"evaluations": (*action.evaluations, evaluation), "evaluate_after": None}
    )
    if evaluation.outcome == "inconclusive":
        entry = HistoryEntry(
            at=evaluation.at,
            actor=SYSTEM_ACTOR,
            kind="evaluated",
            note=evaluation.note,
            recorded_at=recorded_at,
        )
        return evaluated.model_copy(
            update={
                "revision": action.revision + 1,
                "history": (*action.history, entry),
                "evaluate_after": next_evaluation,
            }
        ), []
    to = S.EFFECTIVE if evaluation.outcome == "effective" else S.NOT_EFFECTIVE
    concluded, event = _moved(
        evaluated,
        to,
        actor=SYSTEM_ACTOR,
        at=evaluation.at,
        note=evaluation.note,
        changes={},
        kind="evaluated",
        recorded_at=recorded_at,
    )
    if to is S.EFFECTIVE:
        return concluded, [event]
    reopened, again = _moved(
        concluded,
        S.REOPENED,
        actor=SYSTEM_ACTOR,
        at=evaluation.at,
        note=(
            "Mesure sans effet constaté : nouvelle analyse des causes à mener, plan à "
            "réajuster, voire la collecte des appréciations à revoir."
        ),
        changes={"validation": None, "done_at": None},
        recorded_at=recorded_at,
    )
    return reopened, [event, again]
