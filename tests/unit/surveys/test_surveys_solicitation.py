"""Solicitations: who is asked on which occasion, once; when to send, remind and expire."""

from __future__ import annotations

from datetime import timedelta

import pytest

from boucle_contracts.common import RespondentRole
from boucle_contracts.feedback.v1 import SurveyKind
from boucle_contracts.solicitations.v1 import ClosingReason, CollectionTrigger
from boucle_surveys.domain.planning import (
    dropout_occasion,
    session_occasion,
    solicitations_for,
    yearly_occasion,
)
from boucle_surveys.domain.solicitation import Status, Step, StepKind
from tests.unit.surveys.surveys_support import NOW, enrolment, plan, rule, session

pytestmark = pytest.mark.unit


def test_a_session_asks_each_learner_who_stayed_once_with_stable_ids() -> None:
    version = plan(
        rule(),
        rule("froid", survey_kind=SurveyKind.COLD, delay_days=45, survey_id="form-froid"),
        rule("formateurs", stakeholder=RespondentRole.TRAINER, survey_id="form-formateur"),
    )
    enrolments = [
        enrolment("l1"),
        enrolment("l2"),
        enrolment("l2"),
        enrolment("l3", dropped_out=True),
    ]
    occasion = session_occasion(session(), enrolments)
    asked = solicitations_for(version, CollectionTrigger.SESSION_END, occasion)
    people = sorted((s.rule_id, s.respondent_ref) for s in asked)
    assert people == [
        ("chaud-stagiaires", "l1"),
        ("chaud-stagiaires", "l2"),
        ("formateurs", "trainer-a"),
        ("froid", "l1"),
        ("froid", "l2"),
    ]
    again = solicitations_for(version, CollectionTrigger.SESSION_END, occasion)
    assert [s.solicitation_id for s in again] == [s.solicitation_id for s in asked]
    assert len({s.solicitation_id for s in asked}) == 5
    cold = next(s for s in asked if s.rule_id == "froid")
    assert cold.due_at == NOW + timedelta(days=45)
    assert cold.expires_at == cold.due_at + timedelta(days=21)
    assert cold.training.session_id == "sess-1"


def test_companies_and_funders_of_a_session_are_asked_once_each() -> None:
    version = plan(
        rule("entreprises", stakeholder=RespondentRole.COMPANY, survey_id="form-entreprise"),
        rule("financeurs", stakeholder=RespondentRole.FUNDER, survey_id="form-financeur"),
    )
    enrolments = [
        enrolment("l1", company_id="co-1", funder_id="opco-1"),
        enrolment("l2", company_id="co-1", funder_id="opco-2"),
    ]
    asked = solicitations_for(
        version, CollectionTrigger.SESSION_END, session_occasion(session(), enrolments)
    )
    assert sorted(s.respondent_ref for s in asked) == ["co-1", "opco-1", "opco-2"]


def test_dropouts_and_yearly_occasions() -> None:
    version = plan(
        rule("abandon", trigger=CollectionTrigger.DROPOUT, survey_id="form-abandon"),
        rule(
            "annuel-financeurs",
            stakeholder=RespondentRole.FUNDER,
            survey_kind=SurveyKind.ANNUAL,
            trigger=CollectionTrigger.YEARLY,
            survey_id="form-annuel",
        ),
    )
    left = solicitations_for(
        version, CollectionTrigger.DROPOUT, dropout_occasion(enrolment("l9"), NOW)
    )
    assert [(s.rule_id, s.respondent_ref, s.occasion) for s in left] == [
        ("abandon", "l9", "abandon:enr-l9")
    ]
    yearly = solicitations_for(
        version,
        CollectionTrigger.YEARLY,
        yearly_occasion(2026, NOW, {RespondentRole.FUNDER: ["opco-1", "opco-1", "opco-2"]}),
    )
    assert sorted(s.respondent_ref for s in yearly) == ["opco-1", "opco-2"]
    assert {s.occasion for s in yearly} == {"annee:2026"}


def test_steps_send_then_remind_then_expire_one_at_a_time() -> None:
    (asked,) = solicitations_for(
        plan(), CollectionTrigger.SESSION_END, session_occasion(session(), [enrolment("l1")])
    )
    assert asked.next_step(NOW - timedelta(minutes=1)) is None
    assert asked.next_step(NOW) == Step(StepKind.SEND)
    sent = asked.sent(NOW + timedelta(days=1))
    assert sent.next_step(NOW + timedelta(days=3)) is None
    assert sent.next_step(NOW + timedelta(days=4)) == Step(StepKind.REMIND, 1)
    # Late by ten days: the first reminder first, then the second.
    assert sent.next_step(NOW + timedelta(days=12)) == Step(StepKind.REMIND, 1)
    reminded = sent.reminded(1)
    assert reminded.next_step(NOW + timedelta(days=12)) == Step(StepKind.REMIND, 2)
    done = reminded.reminded(2)
    assert done.next_step(NOW + timedelta(days=20)) is None
    assert done.next_step(asked.expires_at) == Step(StepKind.EXPIRE)


def test_an_answer_or_a_closing_stops_everything() -> None:
    (asked,) = solicitations_for(
        plan(), CollectionTrigger.SESSION_END, session_occasion(session(), [enrolment("l1")])
    )
    sent = asked.sent(NOW)
    answered = sent.answered("resp-1", NOW + timedelta(days=2))
    assert answered.status is Status.ANSWERED
    assert answered.next_step(NOW + timedelta(days=30)) is None
    closed = sent.closed(ClosingReason.OPTED_OUT, NOW)
    assert closed.next_step(NOW + timedelta(days=4)) is None
