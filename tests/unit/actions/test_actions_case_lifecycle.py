"""Complaint case lifecycle: every transition, every guard, overdue deadlines once each."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from boucle_actions.domain.cases import (
    CASE_TRANSITIONS,
    Case,
    DeadlinePolicy,
    TransitionRefusedError,
    deadlines_of,
    is_overdue,
    missed_deadlines,
    open_complaint_case,
    open_incident_case,
    transition_case,
)
from boucle_contracts.cases.v1 import CaseStatus
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1

pytestmark = pytest.mark.unit

C = CaseStatus
COMPLAINT = example_of(ComplaintReceivedV1)
OPENED = open_complaint_case(COMPLAINT.id, COMPLAINT.data, deadlines_of(48, 15))
T0 = OPENED.opened_at
LATER = T0 + timedelta(hours=1)
ALLOWED = {(a, b) for a, targets in CASE_TRANSITIONS.items() for b in targets}
EVERY_PAIR = list(itertools.product(C, C))


def fresh() -> Case:
    return Case.opened(OPENED, network_id="net", site_id="site")


def at_status(status: CaseStatus, **fields: object) -> Case:
    base: dict[str, object] = {"answer": "Réponse envoyée.", "root_cause": "Cause identifiée."}
    if status is not C.RECEIVED:
        base["acknowledged_at"] = LATER
    if status in (C.ANSWERED, C.CLOSED):
        base["answered_at"] = LATER
    return fresh().model_copy(update={"status": status, **base, **fields})


def test_a_new_case_is_received_with_its_deadlines_and_one_history_entry() -> None:
    case = fresh()

    assert case.status is C.RECEIVED
    assert case.revision == 1
    assert case.acknowledge_due_at == T0 + timedelta(hours=48)
    assert case.answer_due_at == T0 + timedelta(days=15)
    assert [(h.from_status, h.to_status) for h in case.history] == [(None, C.RECEIVED)]


def test_the_lifecycle_is_exactly_this() -> None:
    assert {
        (C.RECEIVED, C.ACKNOWLEDGED),
        (C.RECEIVED, C.ESCALATED),
        (C.ACKNOWLEDGED, C.ANALYSED),
        (C.ACKNOWLEDGED, C.ESCALATED),
        (C.ACKNOWLEDGED, C.IN_MEDIATION),
        (C.ANALYSED, C.ANSWERED),
        (C.ANALYSED, C.ESCALATED),
        (C.ANALYSED, C.IN_MEDIATION),
        (C.ESCALATED, C.ANALYSED),
        (C.ESCALATED, C.IN_MEDIATION),
        (C.ESCALATED, C.ANSWERED),
        (C.IN_MEDIATION, C.ANALYSED),
        (C.IN_MEDIATION, C.ANSWERED),
        (C.ANSWERED, C.CLOSED),
        (C.ANSWERED, C.IN_MEDIATION),
        (C.ANSWERED, C.ESCALATED),
    } == ALLOWED


@pytest.mark.parametrize(("source", "target"), EVERY_PAIR)
def test_every_pair_of_statuses_is_allowed_or_refused(
    source: CaseStatus, target: CaseStatus
) -> None:
    case = at_status(source)

    if (source, target) in ALLOWED:
        moved, event = transition_case(
            case, target, actor="usr-1", at=LATER, answer="Réponse.", root_cause="Cause."
        )
        assert moved.status is target
        assert moved.revision == case.revision + 1
        assert moved.history[-1].to_status is target
        assert moved.history[-1].from_status is source
        assert moved.history[:-1] == case.history, "history is only ever appended to"
        assert (event.from_status, event.to_status, event.revision) == (
            source,
            target,
            moved.revision,
        )
        assert event.actor == "usr-1"
    else:
        with pytest.raises(TransitionRefusedError, match="cannot become"):
            transition_case(case, target, actor="usr-1", at=LATER, answer="R.", root_cause="C.")


def test_analysed_needs_a_root_cause() -> None:
    case = at_status(C.ACKNOWLEDGED, root_cause=None)

    with pytest.raises(TransitionRefusedError, match="root_cause"):
        transition_case(case, C.ANALYSED, actor="u", at=LATER)
    moved, event = transition_case(case, C.ANALYSED, actor="u", at=LATER, root_cause="Serveur.")
    assert moved.root_cause == event.root_cause == "Serveur."


def test_answered_needs_the_answer_given_and_records_it() -> None:
    case = at_status(C.ANALYSED, answer=None)

    with pytest.raises(TransitionRefusedError, match="answer"):
        transition_case(case, C.ANSWERED, actor="u", at=LATER)
    moved, event = transition_case(case, C.ANSWERED, actor="u", at=LATER, answer="Nous avons…")
    assert moved.answer == event.answer == "Nous avons…"
    assert moved.answered_at == LATER


def test_a_second_answer_after_mediation_needs_a_new_answer_text() -> None:
    case = at_status(C.IN_MEDIATION)

    with pytest.raises(TransitionRefusedError, match="answer"):
        transition_case(case, C.ANSWERED, actor="u", at=LATER)


def test_closed_needs_an_answer_first() -> None:
    case = at_status(C.ANSWERED, answered_at=None)

    with pytest.raises(TransitionRefusedError, match="once answered"):
        transition_case(case, C.CLOSED, actor="u", at=LATER)


def test_any_first_step_acknowledges_the_case_once() -> None:
    escalated, _ = transition_case(fresh(), C.ESCALATED, actor="u", at=LATER)
    again, _ = transition_case(
        escalated, C.ANALYSED, actor="u", at=LATER + timedelta(days=1), root_cause="x"
    )

    assert escalated.acknowledged_at == LATER
    assert again.acknowledged_at == LATER


def test_events_carry_the_linked_actions() -> None:
    case = at_status(C.ANALYSED).model_copy(update={"action_ids": ("act-1",)})

    _, event = transition_case(case, C.ANSWERED, actor="u", at=LATER, answer="R")

    assert event.action_ids == ("act-1",)


def test_deadlines_missed_are_reported_once_each() -> None:
    case = fresh()

    assert missed_deadlines(case, T0 + timedelta(hours=47)) == []
    (ack,) = missed_deadlines(case, T0 + timedelta(hours=48))
    assert (ack.deadline, ack.due_at) == ("acknowledge", case.acknowledge_due_at)
    both = missed_deadlines(case, T0 + timedelta(days=16))
    assert [m.deadline for m in both] == ["acknowledge", "answer"]
    flagged = case.model_copy(update={"overdue": ("acknowledge", "answer")})
    assert missed_deadlines(flagged, T0 + timedelta(days=30)) == []


def test_done_steps_are_not_overdue() -> None:
    acknowledged, _ = transition_case(fresh(), C.ACKNOWLEDGED, actor="u", at=LATER)
    answered = at_status(C.ANSWERED)
    late = T0 + timedelta(days=20)

    assert [m.deadline for m in missed_deadlines(acknowledged, late)] == ["answer"]
    assert missed_deadlines(answered, late) == []
    assert is_overdue(acknowledged, late)
    assert not is_overdue(answered, late)
    assert not is_overdue(fresh(), T0 + timedelta(hours=1))


def test_a_hazard_case_has_no_acknowledgement_deadline_to_miss() -> None:
    hazard = example_of(HazardReportedV1)
    opened = open_incident_case(hazard.id, hazard.data, deadlines_of(48, 15))
    case = Case.opened(opened, network_id="net", site_id=None)

    assert [m.deadline for m in missed_deadlines(case, datetime(2030, 1, 1, tzinfo=UTC))] == [
        "answer"
    ]


def test_networks_may_have_their_own_deadlines() -> None:
    policy = DeadlinePolicy(deadlines_of(48, 15), {"net-fast": deadlines_of(24, 7)})

    assert policy.for_network("net-fast").answer_within == timedelta(days=7)
    assert policy.for_network("other").acknowledge_within == timedelta(hours=48)
