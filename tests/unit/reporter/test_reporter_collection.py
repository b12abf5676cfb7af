"""Indicator 30 from the surveys service's events: the plan in force said in sentences,
response rates as answered ÷ asked (never above 100 %), and the stakeholder groups of
the plan that nobody asked in 12 months flagged before the audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bench.reporter.scenario import CLEAN_SITE, NETWORK, NOW, PERIOD, clean_events, replayed

from boucle_contracts.common import RespondentRole
from boucle_contracts.feedback.v1 import SurveyKind
from boucle_contracts.registry import AnyEvent
from boucle_contracts.solicitations.v1 import (
    ClosingReason,
    CollectionPlanPublished,
    CollectionPlanPublishedV1,
    CollectionRule,
    CollectionTrigger,
    SolicitationAnswered,
    SolicitationAnsweredV1,
    SolicitationExpired,
    SolicitationExpiredV1,
    SolicitationSent,
    SolicitationSentV1,
)
from boucle_reporter.adapters.render import report_charts, report_html
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.collection import rule_sentence
from boucle_reporter.domain.figures import report_figures
from boucle_reporter.domain.readiness import readiness
from boucle_reporter.pack import load_pack

pytestmark = pytest.mark.unit
AT = datetime(2025, 6, 2, 9, tzinfo=UTC)
HOT = CollectionRule(
    rule_id="chaud",
    label="Enquête à chaud",
    stakeholder=RespondentRole.LEARNER,
    survey_kind=SurveyKind.HOT,
    trigger=CollectionTrigger.SESSION_END,
    survey_id="form-chaud",
    platform="tally",
    form_url="https://tally.so/r/abc",
    reminder_days=(3, 7),
    expires_after_days=21,
)
YEARLY = HOT.model_copy(
    update={
        "rule_id": "financeurs",
        "stakeholder": RespondentRole.FUNDER,
        "survey_kind": SurveyKind.ANNUAL,
        "trigger": CollectionTrigger.YEARLY,
        "survey_id": "form-financeurs",
        "platform": "limesurvey",
        "reminder_days": (),
    }
)


def plan() -> AnyEvent:
    return CollectionPlanPublishedV1.create(
        data=CollectionPlanPublished(
            plan_version=1,
            effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            published_by="usr-qualite",
            published_at=datetime(2025, 1, 1, tzinfo=UTC),
            rules=(HOT, YEARLY),
        ),
        network_id=NETWORK,
        source="/surveys/plans",
    )


def asked(n: int, *, answered: bool = False, unreachable: bool = False) -> list[AnyEvent]:
    common = {"network_id": NETWORK, "site_id": CLEAN_SITE, "source": "/surveys"}
    sid = f"sol-{n}"
    if unreachable:
        closed = SolicitationExpired(
            solicitation_id=sid, reason=ClosingReason.UNREACHABLE, expired_at=AT, was_sent=False
        )
        return [SolicitationExpiredV1.create(data=closed, **common)]  # type: ignore[arg-type]
    events: list[AnyEvent] = [
        SolicitationSentV1.create(
            data=SolicitationSent(
                solicitation_id=sid,
                survey_kind=SurveyKind.HOT,
                respondent_role=RespondentRole.LEARNER,
                sent_at=AT,
            ),
            **common,  # type: ignore[arg-type]
        )
    ]
    if answered:
        events.append(
            SolicitationAnsweredV1.create(
                data=SolicitationAnswered(
                    solicitation_id=sid,
                    response_id=f"r-{n}",
                    survey_kind=SurveyKind.HOT,
                    respondent_role=RespondentRole.LEARNER,
                    answered_at=AT,
                ),
                **common,  # type: ignore[arg-type]
            )
        )
    return events


async def test_rates_are_answered_over_asked_and_the_plan_reads_as_french() -> None:
    events = [*clean_events(), plan()]
    for n in range(4):
        events += asked(n, answered=n < 3)
    events += asked(9, unreachable=True)
    _, read_model = await replayed(events)
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1])
    data = await load_pack(read_model, request, NOW)

    learners = data.collection.by_role["learner"]
    assert (learners.asked, learners.answered) == (4, 3)
    figures = report_figures(data, NOW.date())
    rate = next(r for r in figures.response_rates if r.role == "learner")
    assert (rate.responses, rate.solicited, rate.rate) == (3, 4, 0.75)
    funders = next(r for r in figures.response_rates if r.role == "funder")
    assert funders.solicited is None  # nobody asked through Boucle: no rate, said in words

    gaps = readiness(data)
    assert [
        (g.code, g.site, g.subject) for g in gaps if g.indicator == 30 and "solicited" in g.code
    ] == [("group_not_solicited", "", "Financeurs")]
    html = report_html(data, figures, report_charts(figures, "fr"), gaps)
    assert "Plan de collecte en vigueur" in html
    assert "Version 1, en vigueur depuis le 1 janvier 2025." in html
    assert (
        "Stagiaires : enquête à chaud, à la fin de chaque session ; formulaire Tally ; "
        "relances à 3 et 7 jours"
    ) in html
    assert (
        "Financeurs : enquête annuelle, une fois par an ; formulaire LimeSurvey ; sans relance"
        in html
    )
    assert "75" in html


def test_rules_in_english_and_with_programmes_and_anonymity() -> None:
    rule = HOT.model_copy(
        update={"delay_days": 60, "programme_ids": ("prog-gp",), "anonymous": True}
    ).model_dump(mode="json")
    assert rule_sentence(rule, "fr", {"prog-gp": "Gestion de projet"}.get) == (
        "Stagiaires : enquête à chaud, 60 jours après la fin de chaque session ; "
        "formulaire Tally ; relances à 3 et 7 jours ; formations concernées : "
        "Gestion de projet ; réponses anonymes"
    )
    assert rule_sentence(rule, "en", str).startswith(
        "Learners: end-of-session survey, 60 days after the end of each session"
    )


async def test_without_a_plan_nothing_changes() -> None:
    _, read_model = await replayed(clean_events())
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1])
    data = await load_pack(read_model, request, NOW)
    assert data.collection.plan is None
    assert not [g for g in readiness(data) if g.code == "group_not_solicited"]
    html = report_html(data, report_figures(data, NOW.date()), {}, [])
    assert "Aucun plan de collecte" in html
