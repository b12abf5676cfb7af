"""Deadlines counting down, the inbox's order, the steps to an answer, actions by status."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from boucle_console.domain.actions import by_status
from boucle_console.domain.cases import (
    CaseView,
    Step,
    Urgency,
    answer_transitions,
    countdown,
    inbox,
)
from tests.unit.console.console_support import NOW, action, case

pytestmark = pytest.mark.unit


def test_countdown_urgency_late_soon_and_on_time() -> None:
    assert countdown(None, NOW) is None
    late = countdown(NOW - timedelta(minutes=1), NOW)
    soon = countdown(NOW + timedelta(hours=23), NOW)
    later = countdown(NOW + timedelta(hours=30), NOW)
    assert late is not None
    assert late.urgency is Urgency.LATE
    assert soon is not None
    assert soon.urgency is Urgency.SOON
    assert later is not None
    assert later.urgency is Urgency.ON_TIME
    assert later.remaining == timedelta(hours=30)


def test_the_deadline_that_matters_follows_the_step() -> None:
    received = case("c1", "lyon")
    assert received.next_step is Step.ACKNOWLEDGE
    assert received.deadline(NOW) == countdown(received.acknowledge_due_at, NOW)
    acknowledged = replace(received, status="acknowledged", acknowledged_at=NOW)
    assert acknowledged.next_step is Step.ANSWER
    assert acknowledged.deadline(NOW) == countdown(acknowledged.answer_due_at, NOW)
    hazard = replace(received, source="hazard", acknowledge_due_at=None)
    assert hazard.deadline(NOW) == countdown(hazard.answer_due_at, NOW)  # only one deadline
    answered = replace(received, status="answered", answered_at=NOW)
    assert answered.next_step is Step.NONE
    assert answered.deadline(NOW) is None


def test_inbox_puts_the_nearest_deadline_first_and_answered_apart() -> None:
    far = case("far", "lyon", acknowledge_due_at=NOW + timedelta(hours=40))
    near = case("near", "lyon", acknowledge_due_at=NOW + timedelta(hours=2))
    late = case("late", "lyon", acknowledge_due_at=NOW - timedelta(hours=2))
    to_answer = case("ans", "lyon", status="analysed", acknowledged_at=NOW)
    answered = case("done", "lyon", status="answered", answered_at=NOW)
    closed = case("closed", "lyon", status="closed")
    box = inbox([far, answered, near, closed, to_answer, late], NOW)
    assert [c.case_id for c in box.to_acknowledge] == ["late", "near", "far"]
    assert [c.case_id for c in box.to_answer] == ["ans"]
    assert [c.case_id for c in box.answered] == ["done"]
    assert box.waiting == 4


@pytest.mark.parametrize(
    ("status", "recorded", "given", "expected"),
    [
        ("acknowledged", None, "cause", ["analysed", "answered"]),
        ("analysed", "cause", None, ["answered"]),
        ("escalated", None, None, ["answered"]),
        ("escalated", None, "cause", ["analysed", "answered"]),
        ("in_mediation", "cause", None, ["analysed", "answered"]),
    ],
)
def test_answering_goes_through_analysis_when_needed(
    status: str, recorded: str | None, given: str | None, expected: list[str]
) -> None:
    subject: CaseView = case("c", "lyon", status=status, root_cause=recorded)
    assert answer_transitions(subject, root_cause=given) == expected


def test_actions_awaiting_validation_come_first_and_missing_fields_are_named() -> None:
    ordered = by_status([action("a", "in_progress"), action("b", "proposed"), action("c", "draft")])
    assert [a.action_id for a in ordered] == ["b", "c", "a"]
    bare = action("d", owner=None, due_date=None, measures=())
    assert bare.missing_for_validation == ("owner", "due_date", "measures")
    assert action("e").missing_for_validation == ()
