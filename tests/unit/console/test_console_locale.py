"""The console's gettext catalogues: French and English hold the same messages, and every
message a page, a form or an e-mail asks for exists (a code never reaches a reader)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from boucle_console import locale as words
from boucle_console.adapters.api import BuildView
from boucle_console.notify.reminders import Kind
from tests.unit.console.console_support import (
    CSRF,
    NOW,
    FakeActions,
    FakeReporter,
    action,
    case,
    client,
    problem_draft,
)

pytestmark = pytest.mark.unit

SOURCE = Path(words.__file__).resolve().parents[1]
KINDS = tuple(kind.value for kind in Kind)
LITERAL = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")
# Keys built from a code: every code each prefix is used with.
DYNAMIC = {
    "astatus": (
        "draft",
        "proposed",
        "validated",
        "in_progress",
        "done",
        "effective",
        "not_effective",
        "reopened",
        "cancelled",
    ),
    "status": (
        "received",
        "acknowledged",
        "analysed",
        "answered",
        "closed",
        "escalated",
        "in_mediation",
    ),
    "source": ("complaint", "hazard", "difficulty"),
    "role": ("quality_lead", "direction", "site_manager", "auditor", "integration"),
    "severity": ("low", "medium", "high", "critical"),
    "stage": ("to_plan", "planned", "closed"),
    "metric": (
        "mean_satisfaction",
        "satisfaction_rate",
        "nps",
        "response_rate",
        "complaint_rate",
        "dropout_rate",
    ),
    "progress.step": ("in_progress", "done"),
    "evaluation": ("effective", "not_effective", "inconclusive"),
    "build": ("queued", "running", "done", "failed"),
    "notify": (*KINDS, "all"),
    "mail.subject": KINDS,
    "mail.lead": KINDS,
    "history": ("created", "updated", "transitioned", "evaluated", "linked"),
    "flash.progress": ("in_progress", "done"),
    "preferences.kind": KINDS,
    "cplan.who": ("learner", "trainer", "company", "funder"),
    "cplan.kind": ("hot", "cold", "end_of_programme", "annual", "ad_hoc"),
    "cplan.when": ("session_end", "session_end.after", "dropout", "dropout.after", "yearly"),
    "cplan.reminders": ("none", "one", "many"),
    "stakeholder": ("learner", "trainer", "company", "funder"),
    "kind": ("hot", "cold", "end_of_programme", "annual", "ad_hoc"),
    "trigger": ("session_end", "dropout", "yearly"),
    "grouping": ("site_id", "respondent_role", "survey_kind", "programme_id"),
    "public.kind": ("complaint", "remark"),
    "public.role": ("learner", "company", "funder"),
    "public.notice": ("expired", "fast"),
    "public.error": ("kind", "role", "message", "email"),
    "flash": ("plan_published", "note_published"),
}


def test_french_and_english_hold_the_same_messages() -> None:
    assert words.message_ids("fr") == words.message_ids("en")


def test_every_message_asked_for_exists() -> None:
    asked: set[str] = set()
    for path in [*SOURCE.rglob("*.html"), *SOURCE.rglob("*.py")]:
        asked |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    for prefix, codes in DYNAMIC.items():
        asked |= {f"{prefix}.{code}" for code in codes}
    assert len(asked) > 150  # the scan did find the pages' words
    assert sorted(asked - words.message_ids("fr")) == []


def test_a_missing_english_message_falls_back_to_french_and_formats() -> None:
    t = words.translator("en")
    assert t("problems.detected", when="3 Dec") == "detected on 3 Dec"
    assert t("no.such.key") == "no.such.key"
    assert words.metric_value("satisfaction_rate", 0.823, "fr") == "82,3\xa0%"
    assert words.metric_value("mean_satisfaction", 4.1, "fr") == "4,10"


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_no_page_shows_a_message_id(lang: str) -> None:
    """Every page rendered in each language: no catalogue id reaches the reader."""
    api = FakeActions()
    api.actions_by_id["p-1"] = problem_draft("p-1")
    api.actions_by_id["a-1"] = action("a-1", "done")
    api.cases_by_id["c-1"] = case("c-1", "lyon")
    # a message id left untranslated starts like the catalogue's ids (``problem.…``)
    prefixes = {key.split(".")[0] for key in words.message_ids("fr")}
    reporter = FakeReporter(
        built=[BuildView("a" * 32, "done", "2026-01-01", "2026-07-01", (), 1.0, NOW, 10, "ab" * 32)]
    )
    async with client(api, "quality_lead", reporter=reporter, email="q@reseau.example") as http:
        http.cookies.set("boucle_lang", lang)
        await http.post(
            "/meetings",
            data={
                "csrf_token": CSRF,
                "title": "Bilan",
                "held_at": "2026-11-30T14:00",
                "attendees": "a",
                "decisions": "Décider",
            },
        )
        pages = [
            await http.get(path)
            for path in (
                "/",
                "/cases/c-1",
                "/actions",
                "/actions/a-1",
                "/actions/p-1",
                "/problems",
                "/problems/p-1",
                "/meetings",
                "/meetings/m-1",
                "/dossier",
                "/notifications",
                "/collection-plan",
                "/collection-plan/new",
                "/response-rates",
                "/public-form",
                "/notes",
                "/notes/lyon",
                "/avis/net-unit/lyon",
            )
        ]
    for page in pages:
        assert page.status_code == 200, page.url
        text = re.sub(r"<[^>]+>", " ", page.text)
        dotted = re.findall(r"[a-z_]+(?:\.[a-z0-9_]+)+", text)
        leaked = {word for word in dotted if word.split(".")[0] in prefixes}
        assert leaked == set(), (page.url, leaked)
