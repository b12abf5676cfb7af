"""The console's pages over a fake actions API: who sees what, forms, CSRF, refusals, words."""

from __future__ import annotations

import asyncio
import re
from html import unescape

import httpx
import pytest

from boucle_console.app import create_app
from boucle_console.session import COOKIE
from tests.unit.console.console_support import (
    CSRF,
    FakeActions,
    action,
    case,
    client,
    settings,
)

pytestmark = pytest.mark.unit


def fake() -> FakeActions:
    api = FakeActions()
    for item in (
        case("c-lyon", "lyon"),
        case("c-paris", "paris"),
        case("c-hazard", "lyon", source="hazard", status="acknowledged", acknowledge_due_at=None),
    ):
        api.cases_by_id[item.case_id] = item
    api.actions_by_id["a-1"] = action("a-1")
    return api


async def test_without_a_session_every_page_leads_to_sign_in() -> None:
    async with client(fake()) as http:
        for path in ("/", "/cases/c-lyon", "/actions", "/actions/a-1"):
            response = await http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].endswith("/login")
        posted = await http.post("/cases/c-lyon/acknowledge", data={"csrf_token": CSRF})
        assert posted.status_code == 303
        page = await http.get("/login")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert 'href="#contenu"' in page.text
    assert 'id="contenu"' in page.text
    assert "Aucun fournisseur d'identité" in unescape(
        page.text
    )  # no issuer configured in unit tests


async def test_the_inbox_shows_names_deadlines_and_sections_in_french() -> None:
    async with client(fake(), "site_manager") as http:
        page = await http.get("/")
    assert page.status_code == 200
    text = page.text
    assert "À prendre en compte <span" in text
    assert "À analyser et répondre <span" in text
    assert "Réclamation" in text
    assert "Aléa" in text
    assert "Reçue" in text
    assert re.search(r"reste 4[45]\s+heures", text)  # 45 h left to acknowledge
    assert re.search(r"prise en compte sous 48\s+heures, réponse sous 15\s+jours", text)
    assert ">complaint<" not in text
    assert ">received<" not in text
    assert "Responsable de site" in text


async def test_english_is_available() -> None:
    async with client(fake(), "site_manager") as http:
        http.cookies.set("boucle_lang", "en")
        page = await http.get("/")
    assert '<html lang="en">' in page.text
    assert "To acknowledge" in page.text


async def test_a_site_manager_acknowledges_then_answers_with_the_root_cause() -> None:
    api = fake()
    async with client(api, "site_manager") as http:
        page = await http.get("/cases/c-lyon")
        assert f'name="csrf_token" value="{CSRF}"' in page.text
        assert 'action="https://console/cases/c-lyon/acknowledge"' in page.text
        done = await http.post(
            "/cases/c-lyon/acknowledge", data={"csrf_token": CSRF, "note": "Bien reçu"}
        )
        assert done.status_code == 303
        after = await http.get(done.headers["location"])
        assert "Prise en compte enregistrée." in after.text
        assert "Analyser et répondre" in after.text
        answered = await http.post(
            "/cases/c-lyon/answer",
            data={"csrf_token": CSRF, "root_cause": "Chauffage", "answer": "Réparé"},
        )
        assert answered.status_code == 303
        assert answered.headers["location"].endswith("/")
    assert api.calls == [
        ("c-lyon", "acknowledged", {"note": "Bien reçu"}),
        ("c-lyon", "analysed", {"root_cause": "Chauffage"}),
        ("c-lyon", "answered", {"answer": "Réparé"}),
    ]


async def test_the_answer_form_is_prefilled_with_the_template_of_its_category() -> None:
    async with client(fake(), "site_manager") as http:
        page = await http.get("/cases/c-hazard")
    assert "L'aléa signalé a été analysé" in unescape(page.text)


async def test_a_form_without_its_csrf_token_is_refused() -> None:
    api = fake()
    async with client(api, "site_manager") as http:
        missing = await http.post("/cases/c-lyon/acknowledge", data={"note": "x"})
        wrong = await http.post("/cases/c-lyon/acknowledge", data={"csrf_token": "forged"})
    assert missing.status_code == 422
    assert wrong.status_code == 403
    assert "Le formulaire a expiré" in wrong.text
    assert api.calls == []


async def test_another_sites_case_is_refused() -> None:
    async with client(fake(), "site_manager") as http:
        other = await http.get("/cases/c-paris")
        gone = await http.get("/cases/nothing")
    assert other.status_code == 403
    assert "Vous n'avez pas accès" in unescape(other.text)
    assert gone.status_code == 404


async def test_an_auditor_gets_no_write_control_and_every_write_is_refused() -> None:
    api = fake()
    async with client(api, "auditor") as http:
        page = await http.get("/cases/c-lyon")
        plan = await http.get("/actions/a-1")
        refused = [
            await http.post(
                path, data={"csrf_token": CSRF, "answer": "x", "comment": "x", "root_cause": "x"}
            )
            for path in (
                "/cases/c-lyon/acknowledge",
                "/cases/c-lyon/answer",
                "/cases/c-lyon/root-cause",
                "/actions/a-1/validate",
                "/actions/a-1/send-back",
            )
        ]
    assert page.status_code == 200
    assert "Consultation seule" in page.text
    for html in (page.text, plan.text):
        posts = re.findall(r'<form method="post" action="([^"]+)"', html)
        assert posts == ["https://console/logout"]
        assert "<textarea" not in html
    assert [r.status_code for r in refused] == [403] * 5
    assert api.calls == []


async def test_the_direction_validates_or_sends_back_with_a_comment() -> None:
    api = fake()
    api.actions_by_id["a-2"] = action("a-2")
    async with client(api, "quality_lead") as http:
        listing = await http.get("/actions")
        page = await http.get("/actions/a-1")
        validated = await http.post("/actions/a-1/validate", data={"csrf_token": CSRF})
        sent_back = await http.post(
            "/actions/a-2/send-back", data={"csrf_token": CSRF, "comment": "Préciser le coût"}
        )
    assert "À valider" in listing.text
    assert "Valider le plan" in page.text
    assert "Renvoyer pour reprise" in page.text
    assert validated.status_code == 303
    assert sent_back.status_code == 303
    assert api.calls == [
        ("a-1", "validated", {"note": None}),
        ("a-2", "draft", {"note": "Préciser le coût"}),
    ]


async def test_a_site_manager_cannot_validate_a_plan() -> None:
    api = fake()
    async with client(api, "site_manager") as http:
        page = await http.get("/actions/a-1")
        refused = await http.post("/actions/a-1/validate", data={"csrf_token": CSRF})
    assert "Valider le plan" not in page.text
    assert refused.status_code == 403
    assert api.calls == []


async def test_cookie_flags_security_headers_and_operations() -> None:
    async with client(fake()) as http:
        page = await http.get("/login")
        live = await http.get("/health/live")
        # Readiness answers at once from checks made in the background: "down" until the
        # first check has come back, which a loaded machine may delay past the first call.
        for _ in range(100):
            ready = await http.get("/health/ready")
            if ready.json()["checks"]["actions"] == "up":
                break
            await asyncio.sleep(0.1)
        metrics = await http.get("/metrics")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"):
        assert flag in cookie
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert live.status_code == 200
    assert ready.json()["checks"]["actions"] == "up"
    assert "boucle_http_requests" in metrics.text


async def test_a_callback_that_does_not_match_a_sign_in_is_refused_with_a_reason() -> None:
    """A forged or replayed callback (no state of this session) never signs anyone in."""
    app = create_app(settings(oidc_issuer_url="http://127.0.0.1:9"), actions=fake())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console"
    ) as http:
        answer = await http.get("/auth/callback", params={"code": "stolen", "state": "forged"})
        after = await http.get("/")
    assert answer.status_code == 403
    assert "La connexion a échoué" in unescape(answer.text)
    assert after.status_code == 303  # still not signed in
