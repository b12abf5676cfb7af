"""The quality lead's pages over fake APIs: problems and plans, progress and evidence,
meetings and decisions, the dossier; who gets which control, what reaches the APIs."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest

from boucle_console.domain.meetings import MeetingView
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


def fake() -> FakeActions:
    api = FakeActions()
    api.actions_by_id["p-low"] = problem_draft("p-low", severity="low", sites=("nice",))
    api.actions_by_id["p-two"] = problem_draft("p-two", severity="high", sites=("lyon", "nice"))
    api.actions_by_id["p-one"] = problem_draft("p-one", severity="high", sites=("lyon",))
    api.actions_by_id["p-planned"] = problem_draft(
        "p-planned", severity="critical", status="proposed"
    )
    api.actions_by_id["a-1"] = action("a-1", "validated")
    api.cases_by_id["c-1"] = replace(case("c-1", "lyon"), source_ref="cpl-1")
    return api


def rows(html: str) -> list[str]:
    return re.findall(r'href="https://console/problems/([^"]+)"', html)


async def test_problems_are_ranked_by_risk_and_filtered_by_site_and_stage() -> None:
    async with client(fake(), "quality_lead") as http:
        every = await http.get("/problems")
        nice = await http.get("/problems", params={"site": "nice"})
        to_plan = await http.get("/problems", params={"stage": "to_plan"})
    assert every.status_code == 200
    # critical first, then high on two sites before high on one, low last
    assert rows(every.text) == ["p-planned", "p-two", "p-one", "p-low"]
    assert rows(nice.text) == ["p-two", "p-low"]
    assert rows(to_plan.text) == ["p-two", "p-one", "p-low"]
    text = unescape(every.text)
    assert "Critique" in text
    assert "Élevée" in text
    assert "Satisfaction moyenne : 4,21 → 3,42" in text
    assert "(n = 64)" in text
    assert 'aria-current="page">Problèmes' in text


async def test_a_problem_page_shows_figures_with_n_themes_examples_and_complaints() -> None:
    async with client(fake(), "quality_lead") as http:
        page = await http.get("/problems/p-two")
        not_a_problem = await http.get("/problems/a-1")
    text = unescape(page.text)
    assert "site lyon ; site nice" in text
    assert '4,21 <span class="muted">(n = 180)</span>' in text
    assert "0,002" in text  # the adjusted p-value
    assert "La plateforme : <strong>62" in text
    assert "31 commentaires" in text
    assert "cm-1" in text
    assert 'href="https://console/cases/c-1"' in text  # the complaint as its case
    assert "cpl-gone" in text
    assert 'role="img" aria-label="Référence 4,21, actuel 3,42"' in text
    assert "Proposer le plan à la validation" in text
    assert not_a_problem.status_code == 404


async def test_a_quality_lead_turns_a_problem_into_a_plan_proposed_for_validation() -> None:
    api = fake()
    async with client(api, "quality_lead") as http:
        done = await http.post(
            "/problems/p-one/plan",
            data={
                "csrf_token": CSRF,
                "objective": "Satisfaction moyenne ≥ 4",
                "measures": "Former les formateurs\n\n  Changer de plateforme  \n",
                "owner": "usr-resp-lyon",
                "due_date": "2027-03-31",
                "root_cause_analysis": "Plateforme instable",
            },
        )
        after = await http.get(done.headers["location"])
    assert done.status_code == 303
    assert done.headers["location"].endswith("/actions/p-one")
    update, proposed = api.calls
    assert update == (
        "p-one",
        "update",
        {
            "objective": "Satisfaction moyenne ≥ 4",
            "measures": ["Former les formateurs", "Changer de plateforme"],
            "owner": "usr-resp-lyon",
            "due_date": "2027-03-31",
            "root_cause_analysis": "Plateforme instable",
        },
    )
    assert proposed[:2] == ("p-one", "proposed")
    assert "Plan enregistré et proposé à la validation." in unescape(after.text)
    assert "Voir le problème" in unescape(after.text)


async def test_the_plan_form_is_refused_when_incomplete_already_planned_or_read_only() -> None:
    api = fake()
    data = {
        "csrf_token": CSRF,
        "objective": "o",
        "measures": "m",
        "owner": "u",
        "due_date": "2027-01-01",
    }
    async with client(api, "quality_lead") as http:
        blank = await http.post("/problems/p-one/plan", data=data | {"measures": " \n "})
        planned = await http.post("/problems/p-planned/plan", data=data)
        page = await http.get("/problems/p-planned")
        bad_owner = await http.post("/problems/p-one/plan", data=data | {"owner": "<script>"})
    async with client(api, "auditor", sites=("lyon", "nice")) as http:
        audit = await http.get("/problems/p-one")
        refused = await http.post("/problems/p-one/plan", data=data)
    assert blank.status_code == 422
    assert planned.status_code == 409
    assert "Le plan de ce problème" in unescape(page.text)
    assert bad_owner.status_code == 422
    assert re.findall(r'<form method="post" action="([^"]+)"', audit.text) == [
        "https://console/logout"
    ]
    assert refused.status_code == 403
    assert api.calls == []


async def test_a_site_manager_plans_their_sites_problems_only() -> None:
    api = fake()
    data = {"csrf_token": CSRF, "objective": "o", "measures": "m", "owner": "u"}
    async with client(api, "site_manager", sites=("lyon",)) as http:
        own = await http.get("/problems/p-one")
        network_wide = await http.get("/problems/p-two")
        refused = await http.post("/problems/p-two/plan", data=data | {"due_date": "2027-01-01"})
    assert "Proposer le plan à la validation" in unescape(own.text)
    assert "Proposer le plan à la validation" not in unescape(network_wide.text)
    assert refused.status_code == 403
    assert api.calls == []


async def test_a_site_manager_records_progress_evidence_and_cannot_request_evaluation() -> None:
    api = fake()
    async with client(api, "site_manager") as http:
        page = await http.get("/actions/a-1")
        started = await http.post(
            "/actions/a-1/progress",
            data={"csrf_token": CSRF, "to": "in_progress", "note": "Chauffage programmé"},
        )
        skipped = await http.post(
            "/actions/a-1/progress", data={"csrf_token": CSRF, "to": "effective"}
        )
        attached = await http.post(
            "/actions/a-1/documents", data={"csrf_token": CSRF, "reference": "CR comité 12/03"}
        )
        again = await http.post(
            "/actions/a-1/documents", data={"csrf_token": CSRF, "reference": "CR comité 12/03"}
        )
        shown = await http.get("/actions/a-1")
        evaluation = await http.post("/actions/a-1/evaluation", data={"csrf_token": CSRF})
    assert "Mesures commencées" in page.text
    assert "Demander l'évaluation" not in unescape(page.text)
    assert started.status_code == attached.status_code == again.status_code == 303
    assert skipped.status_code == 409
    assert evaluation.status_code == 403
    assert api.calls == [
        ("a-1", "in_progress", {"note": "Chauffage programmé"}),
        ("a-1", "update", {"documents": ["CR comité 12/03"]}),
    ]
    assert "CR comité 12/03" in unescape(shown.text)
    assert "Mesures réalisées" in shown.text  # in progress now: next comes done


async def test_the_quality_lead_requests_an_effectiveness_evaluation_once_done() -> None:
    api = fake()
    api.actions_by_id["a-done"] = action("a-done", "done")
    async with client(api, "quality_lead") as http:
        early = await http.post("/actions/a-1/evaluation", data={"csrf_token": CSRF})
        page = await http.get("/actions/a-done")
        asked = await http.post("/actions/a-done/evaluation", data={"csrf_token": CSRF})
    assert early.status_code == 409
    assert "Demander l'évaluation d'efficacité" in unescape(page.text)
    assert asked.status_code == 303
    assert api.calls == [("a-done", "evaluate", {})]


async def test_a_meeting_is_recorded_and_a_decision_becomes_an_action_linked_to_it() -> None:
    api = fake()
    async with client(api, "site_manager") as http:
        empty = await http.get("/meetings")
        recorded = await http.post(
            "/meetings",
            data={
                "csrf_token": CSRF,
                "title": "Réunion mensuelle",
                "held_at": "2026-11-30T14:00",
                "site_id": "lyon",
                "attendees": "usr-resp-lyon\nformateur référent",
                "data_reviewed": "Rapport de novembre",
                "decisions": "Revoir l'accueil\nAcheter des chauffages",
            },
        )
        page = await http.get(recorded.headers["location"])
        made = await http.post("/meetings/m-1/decisions/1", data={"csrf_token": CSRF})
        missing = await http.post("/meetings/m-1/decisions/9", data={"csrf_token": CSRF})
    assert "Aucune réunion enregistrée." in empty.text
    assert '<select id="site_id" name="site_id"><option value="lyon">' in empty.text
    body = api.calls[0][2]
    assert body["held_at"] == "2026-11-30T14:00:00+01:00"  # Paris time, winter
    assert body["attendees"] == ["usr-resp-lyon", "formateur référent"]
    assert body["decisions"] == ["Revoir l'accueil", "Acheter des chauffages"]
    # each button is described by its decision (its name stays the visible text)
    assert 'aria-describedby="decision-2">En faire une action' in unescape(page.text)
    assert made.status_code == 303
    created = api.calls[1][2]
    assert created["meeting_id"] == "m-1"
    assert created["request_id"] == "m-1-decision-1"  # a second click finds the same action
    assert created["title"] == "Acheter des chauffages"
    assert created["draft"] is True
    assert missing.status_code == 404


async def test_an_auditor_reads_meetings_without_any_write_control() -> None:
    api = fake()
    api.meetings_by_id["m-9"] = MeetingView(
        "m-9", "analysis", NOW, "Bilan", "lyon", ("a",), (), ("Décider",), "usr", ("a-1",)
    )
    async with client(api, "auditor") as http:
        listing = await http.get("/meetings")
        page = await http.get("/meetings/m-9")
        refused = await http.post("/meetings/m-9/decisions/0", data={"csrf_token": CSRF})
    for html in (listing.text, page.text):
        assert re.findall(r'<form method="post" action="([^"]+)"', html) == [
            "https://console/logout"
        ]
    assert "Chauffer les salles" in page.text  # the linked action
    assert refused.status_code == 403
    assert api.calls == []


async def test_the_dossier_downloads_pass_through_for_readers_only() -> None:
    reporter = FakeReporter(
        files={
            "tracking-table.csv": b"\xef\xbb\xbfa;b\r\n",
            "tracking-table.xlsx": b"PK-xlsx",
            f"builds/{'a' * 32}/dossier.zip": b"PK-zip",
        }
    )
    async with client(FakeActions(), "auditor", reporter=reporter) as http:
        page = await http.get("/dossier")
        csv = await http.get("/dossier/tracking-table.csv")
        xlsx = await http.get("/dossier/tracking-table.xlsx")
        other = await http.get("/dossier/tracking-table.pdf")
        archive = await http.get(f"/dossier/builds/{'a' * 32}.zip")
        crafted = await http.get("/dossier/builds/..%2f..%2fsecret.zip")
        built = await http.post(
            "/dossier/builds", data={"csrf_token": CSRF, "start": "2026-01-01", "end": "2026-06-30"}
        )
    async with client(FakeActions(), "site_manager", reporter=reporter) as http:
        refused = await http.get("/dossier/tracking-table.csv")
        menu = await http.get("/")
    assert "Télécharger le tableau de suivi (tableur XLSX)" in page.text
    assert csv.content == b"\xef\xbb\xbfa;b\r\n"
    assert csv.headers["content-disposition"] == 'attachment; filename="tracking-table.csv"'
    assert xlsx.content == b"PK-xlsx"
    assert other.status_code == 404
    assert archive.content == b"PK-zip"
    assert crafted.status_code == 404
    # the auditor downloads, but has no build form and the build request is refused
    assert 'action="https://console/dossier/builds"' not in page.text
    assert "Construire le dossier" not in page.text
    assert built.status_code == 403
    assert "build" not in [name for name, _ in reporter.calls]
    async with client(FakeActions(), "quality_lead", reporter=reporter) as http:
        lead_page = await http.get("/dossier")
        built = await http.post(
            "/dossier/builds", data={"csrf_token": CSRF, "start": "2026-01-01", "end": "2026-06-30"}
        )
    assert "Construire le dossier" in lead_page.text
    assert built.status_code == 303
    assert reporter.calls[-1][0] == "build"
    _, (start, end, lang) = reporter.calls[-1]
    assert (str(start), str(end), lang) == ("2026-01-01", "2026-07-01", "fr")  # end exclusive
    assert refused.status_code == 403
    assert "Dossier de preuves" not in menu.text
