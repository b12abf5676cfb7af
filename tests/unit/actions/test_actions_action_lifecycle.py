"""Improvement action lifecycle: every transition, every guard, edits, drafts, evaluations."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Literal

import pytest

from boucle_actions.domain.actions import (
    ACTION_TRANSITIONS,
    EVALUATED,
    SYSTEM_ACTOR,
    Action,
    ActionDetails,
    Actor,
    Evaluation,
    Validation,
    action_id_for,
    comment_action,
    draft_from_degradation,
    new_action,
    record_evaluation,
    transition_action,
    update_action,
)
from boucle_actions.domain.cases import TransitionRefusedError
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, KpiTarget, Priority
from boucle_contracts.examples import example_of
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1, Metric

pytestmark = pytest.mark.unit

S = ActionStatus
DEGRADATION = example_of(DegradationDetectedV1)
T0 = DEGRADATION.data.detected_at
LATER = T0 + timedelta(days=1)
LEAD = Actor("usr-lead", may_validate=True)
MANAGER = Actor("usr-site", may_validate=False)
SCOPE = Scope(level=ScopeLevel.SITE, network_id="net", site_id="lyon")
READY = ActionDetails(
    title="Former les formateurs à la plateforme",
    problem="Satisfaction plateforme en baisse.",
    measures=("Deux sessions de prise en main",),
    owner="usr-owner",
    due_date=date(2025, 4, 30),
    kpi=KpiTarget(metric=Metric.MEAN_SATISFACTION, dimension="platform", target=4.0),
)
ALLOWED = {(a, b) for a, targets in ACTION_TRANSITIONS.items() for b in targets}


def action(status: ActionStatus = S.PROPOSED, **fields: object) -> Action:
    made = new_action(
        action_id="act-1",
        details=READY,
        scope=SCOPE,
        origin=ActionOrigin.MANUAL,
        actor="usr-lead",
        at=T0,
    )
    validation = Validation(by="usr-lead", at=T0)
    validated = {"validation": validation} if status is not S.PROPOSED else {}
    done = {"done_at": T0} if status is S.DONE else {}
    return made.model_copy(update={"status": status, **validated, **done, **fields})


def test_the_lifecycle_is_exactly_this() -> None:
    assert {
        (S.DRAFT, S.PROPOSED),
        (S.DRAFT, S.CANCELLED),
        (S.PROPOSED, S.VALIDATED),
        (S.PROPOSED, S.DRAFT),
        (S.PROPOSED, S.CANCELLED),
        (S.VALIDATED, S.IN_PROGRESS),
        (S.VALIDATED, S.CANCELLED),
        (S.IN_PROGRESS, S.DONE),
        (S.IN_PROGRESS, S.CANCELLED),
        (S.DONE, S.REOPENED),
        (S.NOT_EFFECTIVE, S.REOPENED),
        (S.REOPENED, S.PROPOSED),
        (S.REOPENED, S.IN_PROGRESS),
        (S.REOPENED, S.CANCELLED),
    } == ALLOWED


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, S)))
def test_every_pair_of_statuses_is_allowed_or_refused(
    source: ActionStatus, target: ActionStatus
) -> None:
    current = action(source)

    if (source, target) in ALLOWED:
        moved, event = transition_action(current, target, actor=LEAD, at=LATER, note="Pourquoi.")
        assert moved.status is target
        assert moved.revision == current.revision + 1
        assert moved.history[:-1] == current.history, "history is only ever appended to"
        entry = moved.history[-1]
        assert (entry.actor, entry.at, entry.from_status, entry.to_status) == (
            LEAD.id,
            LATER,
            source,
            target,
        )
        assert (event.from_status, event.to_status, event.revision, event.actor) == (
            source,
            target,
            moved.revision,
            LEAD.id,
        )
    else:
        reason = "effectiveness evaluation" if target in EVALUATED else "cannot become"
        with pytest.raises(TransitionRefusedError, match=reason):
            transition_action(current, target, actor=LEAD, at=LATER, note="Pourquoi.")


def test_only_management_validates_and_it_is_recorded() -> None:
    with pytest.raises(TransitionRefusedError, match="only management"):
        transition_action(action(S.PROPOSED), S.VALIDATED, actor=MANAGER, at=LATER)

    validated, _ = transition_action(action(S.PROPOSED), S.VALIDATED, actor=LEAD, at=LATER)

    assert validated.validation is not None
    assert (validated.validation.by, validated.validation.at) == (LEAD.id, LATER)


@pytest.mark.parametrize("missing", ["owner", "due_date", "measures"])
def test_validation_needs_an_owner_a_due_date_and_measures(missing: str) -> None:
    empty: object = () if missing == "measures" else None
    incomplete = action(S.PROPOSED, **{missing: empty})

    with pytest.raises(TransitionRefusedError, match=missing):
        transition_action(incomplete, S.VALIDATED, actor=LEAD, at=LATER)


def test_a_draft_is_accepted_by_a_person_not_by_the_system() -> None:
    draft = action(S.DRAFT)

    with pytest.raises(TransitionRefusedError, match="by a person"):
        transition_action(draft, S.PROPOSED, actor=Actor(SYSTEM_ACTOR), at=LATER)
    accepted, _ = transition_action(draft, S.PROPOSED, actor=MANAGER, at=LATER)
    assert accepted.status is S.PROPOSED


def test_reopening_needs_a_note() -> None:
    with pytest.raises(TransitionRefusedError, match="needs a note"):
        transition_action(action(S.DONE), S.REOPENED, actor=LEAD, at=LATER)


def test_a_reopened_plan_is_validated_again_before_work_resumes() -> None:
    reopened = action(S.REOPENED, validation=None)

    with pytest.raises(TransitionRefusedError, match="validation first"):
        transition_action(reopened, S.IN_PROGRESS, actor=LEAD, at=LATER)
    proposed, _ = transition_action(
        action(S.REOPENED), S.PROPOSED, actor=LEAD, at=LATER, note="Nouveau plan"
    )
    assert proposed.validation is None


def test_done_schedules_the_evaluation_after_the_window() -> None:
    started, _ = transition_action(action(S.VALIDATED), S.IN_PROGRESS, actor=MANAGER, at=T0)
    done, event = transition_action(
        started, S.DONE, actor=MANAGER, at=LATER, evaluation_window=timedelta(days=14)
    )

    assert started.started_at == T0
    assert done.done_at == LATER
    assert done.evaluate_after == LATER + timedelta(days=14)
    assert event.owner == "usr-owner"
    assert event.due_date == date(2025, 4, 30)


def test_edits_are_recorded_and_refused_once_closed() -> None:
    edited = update_action(
        action(S.IN_PROGRESS), {"owner": "usr-new", "priority": "high"}, actor="u", at=LATER
    )

    assert (edited.owner, edited.priority) == ("usr-new", Priority.HIGH)
    assert edited.revision == 2
    assert edited.history[-1].fields == ("owner", "priority")
    with pytest.raises(TransitionRefusedError, match="not editable"):
        update_action(action(), {"status": "done"}, actor="u", at=LATER)
    for closed in (S.EFFECTIVE, S.CANCELLED):
        with pytest.raises(TransitionRefusedError, match="closed to edits"):
            update_action(action(closed), {"owner": "x"}, actor="u", at=LATER)


def test_comments_are_appended() -> None:
    commented = comment_action(action(), "Point fait avec l'équipe.", actor="u", at=LATER)

    assert [c.text for c in commented.comments] == ["Point fait avec l'équipe."]
    assert commented.revision == 2


def test_an_action_starts_as_a_draft_or_a_proposal_only() -> None:
    with pytest.raises(TransitionRefusedError, match="starts as"):
        new_action(
            action_id="a",
            details=READY,
            scope=SCOPE,
            origin=ActionOrigin.MANUAL,
            actor="u",
            at=T0,
            status=S.VALIDATED,
        )


def test_a_degradation_drafts_an_action_with_its_evidence() -> None:
    draft = draft_from_degradation(DEGRADATION.data, at=T0)
    again = draft_from_degradation(DEGRADATION.data, at=LATER)

    assert draft.status is S.DRAFT
    assert (
        draft.action_id
        == again.action_id
        == action_id_for("degradation", "reseau-horizon", "deg-2025-0007")
    )
    assert draft.origin is ActionOrigin.DEGRADATION
    assert [(s.kind, s.ref) for s in draft.sources] == [("degradation", "deg-2025-0007")]
    assert draft.evidence is not None
    assert draft.evidence["tests"][0]["name"] == "welch_t"
    assert draft.kpi is not None
    assert (draft.kpi.metric, draft.kpi.dimension, draft.kpi.target) == (
        Metric.MEAN_SATISFACTION,
        "platform",
        DEGRADATION.data.baseline.value,
    )
    assert draft.priority is Priority.HIGH
    assert draft.site_id == DEGRADATION.data.scope.site_id
    assert (
        draft.title == "Baisse de la satisfaction moyenne (plateforme) sur le site lyon-part-dieu"
    )
    assert draft.problem == (
        "La satisfaction moyenne (plateforme) est passée de 4,10 (n = 212) à 2,04 (n = 23) "
        "sur le site lyon-part-dieu. Gravité : élevée. Analyse des causes à mener."
    )


def evaluation(outcome: Literal["effective", "not_effective", "inconclusive"]) -> Evaluation:
    return Evaluation(
        at=LATER,
        outcome=outcome,
        metric=Metric.MEAN_SATISFACTION,
        before_value=3.0,
        before_size=40,
        after_value=4.2,
        after_size=40,
        note="n",
    )


def test_effective_closes_the_action() -> None:
    closed, events = record_evaluation(
        action(S.DONE), evaluation("effective"), next_evaluation=None
    )

    assert closed.status is S.EFFECTIVE
    assert [(e.from_status, e.to_status) for e in events] == [(S.DONE, S.EFFECTIVE)]
    assert closed.history[-1].kind == "evaluated"


def test_not_effective_reopens_for_a_new_analysis() -> None:
    reopened, events = record_evaluation(
        action(S.DONE), evaluation("not_effective"), next_evaluation=None
    )

    assert reopened.status is S.REOPENED
    assert [(e.from_status, e.to_status) for e in events] == [
        (S.DONE, S.NOT_EFFECTIVE),
        (S.NOT_EFFECTIVE, S.REOPENED),
    ]
    assert [e.revision for e in events] == [2, 3]
    assert reopened.validation is None
    assert "nouvelle analyse" in (reopened.history[-1].note or "")


def test_inconclusive_keeps_it_done_and_schedules_another_evaluation() -> None:
    again = LATER + timedelta(days=28)

    kept, events = record_evaluation(
        action(S.DONE), evaluation("inconclusive"), next_evaluation=again
    )

    assert (kept.status, kept.evaluate_after, events) == (S.DONE, again, [])
    assert len(kept.evaluations) == 1


def test_only_done_actions_are_evaluated() -> None:
    with pytest.raises(TransitionRefusedError, match="only a done action"):
        record_evaluation(action(S.IN_PROGRESS), evaluation("effective"), next_evaluation=None)
