"""The demo's sample and people, without services: data time, deadlines, names, summary."""

from __future__ import annotations

import io
import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from rich.console import Console

from boucle_collector.domain.referential import ReferentialDocument
from tools import demo_summary
from tools.demo_people import (
    ACKNOWLEDGE_HOURS,
    LATE_SHARE,
    action_plan,
    case_plan,
    meetings,
)
from tools.sample_network import (
    EVALUATION_DAYS,
    fact_time,
    names_of,
    referential,
    sample_network,
    site_label,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 3)  # a Thursday
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
NETWORK = sample_network(sites=4, months=6, seed=7, today=TODAY)


def test_nothing_is_dated_today_or_later() -> None:
    times = [fact_time(s.payload) for s in NETWORK.submissions()]

    assert max(times) < datetime(2026, 12, 3, tzinfo=UTC)
    assert max(times) >= datetime(2026, 12, 1, tzinfo=UTC)  # the data runs until yesterday


def test_the_planted_complaint_is_received_yesterday() -> None:
    (planted,) = [
        s.payload
        for s in NETWORK.submissions()
        if getattr(s.payload, "complaint_id", None) == NETWORK.latest_complaint_id
    ]

    assert fact_time(planted).date() == date(2026, 12, 2)
    assert NETWORK.latest_complaint_id in NETWORK.complaints_still_due(15)
    assert len(NETWORK.complaints_still_due(15)) < len(NETWORK.complaints_still_due(200))


def test_incidents_start_weeks_before_their_fixes_which_leave_a_window_of_answers() -> None:
    today = datetime(2026, 12, 3, tzinfo=UTC)

    assert timedelta(weeks=10) <= today - NETWORK.onset <= timedelta(weeks=12)
    for fixed in (NETWORK.fixed_at, NETWORK.trainer_fixed_at):
        assert timedelta(weeks=5) <= today - fixed <= timedelta(weeks=6, days=6)
        assert fixed + timedelta(days=EVALUATION_DAYS + 1) < today  # evaluated on real weeks


def test_platform_complaints_and_hazards_come_from_the_outage_weeks() -> None:
    platform = [
        s.payload
        for s in NETWORK.submissions()
        if s.path == "hazards" and s.site_id in NETWORK.platform_sites
    ]

    assert platform
    assert all(fact_time(h) >= NETWORK.onset for h in platform)


def _case(opened: datetime, **extra: str) -> dict[str, str]:
    return {
        "case_id": "case-1",
        "source": "complaint",
        "category": "platform",
        "opened_at": opened.isoformat(),
        "answer_due_at": (opened + timedelta(days=15)).isoformat(),
        "status": "received",
        **extra,
    }


def test_cases_are_handled_in_order_mostly_within_their_deadlines() -> None:
    rng = random.Random(3)
    opened = datetime(2026, 9, 1, 10, tzinfo=UTC)
    plans = [case_plan(_case(opened), rng) for _ in range(400)]

    for plan in plans:
        assert [a.to for a in plan] == ["acknowledged", "analysed", "answered", "closed"]
        assert all(a.at < b.at for a, b in itertools.pairwise(plan))
        assert plan[0].at > opened
    late_acks = sum(p[0].at - opened > timedelta(hours=ACKNOWLEDGE_HOURS) for p in plans)
    late_answers = sum(p[2].at > opened + timedelta(days=15) for p in plans)
    for late in (late_acks, late_answers):
        assert 0 < late < 2 * LATE_SHARE * len(plans)  # a few, as in life
    assert all(p[1].body["root_cause"] and p[2].body["answer"] for p in plans)


def test_a_difficulty_gets_its_own_analysis_and_answer() -> None:
    opened = datetime(2026, 9, 1, 10, tzinfo=UTC)
    plan = case_plan(_case(opened, source="difficulty", category="content"), random.Random(1))

    assert "positionnement" in plan[1].body["root_cause"]
    assert "remise à niveau" in plan[2].body["answer"]


def test_monthly_meetings_fall_between_the_drafts_and_the_fixes() -> None:
    held = meetings(NETWORK, NOW)

    assert held
    assert all(b - a == timedelta(weeks=4) for a, b in itertools.pairwise(held))
    assert held[-1] < NOW
    assert NETWORK.onset + timedelta(weeks=2) < held[0] < NETWORK.fixed_at


def _draft(site: str, created: datetime) -> dict[str, object]:
    return {
        "created_at": created.isoformat(),
        "site_id": site,
        "kpi": {"metric": "mean_satisfaction", "target": 4.2},
        "evidence": {"scopes": [{"site_id": site}]},
    }


@pytest.mark.parametrize(("site_index", "kind"), [(0, "platform"), (2, "trainer"), (3, "noise")])
def test_each_draft_gets_the_plan_of_its_cause(site_index: int, kind: str) -> None:
    created = NETWORK.onset + timedelta(weeks=1, days=6)
    plan = action_plan(_draft(NETWORK.sites[site_index], created), NETWORK, meetings(NETWORK, NOW))

    assert plan.kind == kind
    assert plan.details["owner"] in names_of(NETWORK)
    assert plan.details["root_cause_analysis"]
    assert plan.validated_at is not None
    assert created < plan.analysed_at < plan.validated_at
    if kind == "noise":
        assert plan.done_at is None
    else:
        assert plan.details["measures"]
        assert plan.details["due_date"]
        assert plan.done_at is not None
        assert plan.validated_at < plan.done_at < NOW - timedelta(days=EVALUATION_DAYS)
        assert plan.informed


def test_a_draft_of_the_last_days_is_analysed_by_now_and_waits_for_the_meeting() -> None:
    created = NOW - timedelta(hours=20)
    plan = action_plan(_draft(NETWORK.sites[0], created), NETWORK, meetings(NETWORK, NOW), NOW)

    assert created < plan.analysed_at <= NOW
    assert plan.validated_at is None  # no meeting since: proposed, owner and due date set
    assert plan.details["owner"]


def test_the_referential_is_one_the_collector_takes() -> None:
    document = ReferentialDocument.model_validate(referential(NETWORK))

    assert [s.name for s in document.sites][:2] == ["Lyon Part-Dieu", "Paris 11e"]
    assert {p.person_id for p in document.people} == set(names_of(NETWORK))
    assert all(p.role and p.title for p in document.people)


def test_sites_past_the_sixteen_cities_are_numbered() -> None:
    assert site_label("lyon-1") == "Lyon Part-Dieu 2"
    assert site_label("paris-11") == "Paris 11e"


def test_a_long_token_line_is_never_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(
        demo_summary, "console", Console(file=out, width=20, soft_wrap=True, highlight=False)
    )
    token = "eyJ" + "a" * 300
    demo_summary.say(f"curl -H 'Authorization: Bearer {token}' http://127.0.0.1:8084/x")

    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert token in lines[0]


def test_only_gaps_the_sample_plants_are_explained() -> None:
    gaps = [
        {"code": "complaint_unanswered", "site": "lyon", "message": "Réclamation sans réponse"},
        {"code": "action_no_owner", "site": "", "message": "Action sans responsable"},
    ]

    assert demo_summary.unexpected(gaps) == [gaps[1]]
    assert demo_summary.unexpected(gaps, {"rec-lille-20261202"}) == gaps  # not the planted one
    lines = demo_summary.readiness_lines(gaps)
    assert any("Lyon Part-Dieu" in line and "voulu" in line for line in lines)
    assert any("INATTENDU" in line for line in lines)
