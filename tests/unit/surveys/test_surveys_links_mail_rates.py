"""Personal links, the e-mails people receive, and response rates that never exceed 100 %."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from boucle_contracts.solicitations.v1 import ClosingReason, CollectionTrigger
from boucle_surveys.domain.links import personal_link
from boucle_surveys.domain.mail import Names, compose
from boucle_surveys.domain.planning import session_occasion, solicitations_for
from boucle_surveys.domain.rates import ResponseRate, response_rates
from boucle_surveys.domain.solicitation import Solicitation
from tests.unit.surveys.surveys_support import NOW, enrolment, plan, rule, session

pytestmark = pytest.mark.unit


def asked(anonymous: bool = False, learners: int = 1) -> list[Solicitation]:
    occasion = session_occasion(session(), [enrolment(f"l{i}") for i in range(learners)])
    return solicitations_for(
        plan(rule(anonymous=anonymous)), CollectionTrigger.SESSION_END, occasion
    )


def test_links_carry_the_hidden_fields_where_each_platform_reads_them() -> None:
    solicitation = asked()[0]
    tally = urlsplit(personal_link("https://tally.so/r/abc?lang=fr", "tally", solicitation))
    fields = parse_qs(tally.query)
    assert fields["lang"] == ["fr"]
    assert fields["site"] == ["site-lyon"]
    assert fields["session"] == ["sess-1"]
    assert fields["respondent"] == ["l0"]
    assert fields["solicitation"] == [solicitation.solicitation_id]
    typeform = urlsplit(personal_link("https://x.typeform.com/to/Ab", "typeform", solicitation))
    assert typeform.query == ""
    assert parse_qs(typeform.fragment)["respondent"] == ["l0"]


def test_an_anonymous_link_points_at_nobody() -> None:
    solicitation = asked(anonymous=True)[0]
    fields = parse_qs(
        urlsplit(personal_link("https://tally.so/r/abc", "tally", solicitation)).query
    )
    assert "respondent" not in fields
    assert "solicitation" not in fields
    assert fields["session"] == ["sess-1"]


def test_the_invitation_reads_as_french_with_names_and_the_reminder_says_until_when() -> None:
    solicitation = asked()[0]
    names = Names(survey="Enquête à chaud", programme="Gestion de projet", site="Lyon Part-Dieu")
    common = {
        "to": "l0@example.org",
        "link": "https://tally.so/r/abc?x=1",
        "opt_out_link": "https://boucle.example/desinscription?t=abc",
        "names": names,
        "language": "fr",
        "sender_domain": "boucle.example",
    }
    invitation = compose(solicitation, step="send", **common)  # type: ignore[arg-type]
    assert invitation.subject == "Votre avis sur « Enquête à chaud »"
    assert "formation « Gestion de projet », Lyon Part-Dieu" in invitation.body
    assert "https://tally.so/r/abc?x=1" in invitation.body
    assert "Pour ne plus recevoir nos questionnaires" in invitation.body
    assert "prog-gp" not in invitation.body
    assert "sess-1" not in invitation.body
    reminder = compose(solicitation, step="remind-1", **common)  # type: ignore[arg-type]
    assert reminder.subject.startswith("Rappel : ")
    assert "23 novembre 2026" in reminder.body  # expires 21 days after 2 November
    assert reminder.message_id != invitation.message_id
    english = compose(solicitation, step="send", **common | {"language": "en"})  # type: ignore[arg-type]
    assert english.subject == "Your opinion on “Enquête à chaud”"


def test_rates_are_answered_over_asked_and_groups_nobody_was_asked_in_have_none() -> None:
    five = asked(learners=5)
    states = [
        five[0].sent(NOW).answered("r0", NOW),
        five[1].sent(NOW).answered("r1", NOW),
        five[2].sent(NOW),
        five[3].sent(NOW).closed(ClosingReason.NO_ANSWER, NOW),
        five[4].closed(ClosingReason.UNREACHABLE, NOW),  # never reached: not asked
    ]
    rates = response_rates(states, key=lambda s: s.survey_kind)
    (rate,) = rates.values()
    assert rate == ResponseRate(solicited=4, answered=2)
    assert rate.rate == 0.5
    answered_unsent = replace(five[4], status=five[0].sent(NOW).answered("x", NOW).status)
    assert response_rates([answered_unsent], key=lambda s: 1)[1].rate == 1.0
    assert ResponseRate(0, 0).rate is None
