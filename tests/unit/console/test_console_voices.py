"""Voices and their loop over fake APIs: the collection plan read as sentences and published
by the quality lead, response rates, the public form of a site (no cookie, no tracking, its
abuse guards) and its QR code, and the « vous nous avez dit, nous avons agi » notes."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import pytest

from boucle_console.adapters.surveys import PlanVersion, RateRow
from boucle_console.app import create_app
from boucle_console.domain.public_form import FormTokens
from tests.unit.console.console_support import (
    CSRF,
    NET,
    NOW,
    SECRET,
    FakeActions,
    FakeCollector,
    FakeReporter,
    FakeSurveys,
    action,
    client,
    settings,
)

pytestmark = pytest.mark.unit


def rule(rule_id: str, **changes: Any) -> dict[str, Any]:
    base = {
        "rule_id": rule_id,
        "label": "Enquête à chaud stagiaires",
        "stakeholder": "learner",
        "survey_kind": "hot",
        "trigger": "session_end",
        "delay_days": 0,
        "programme_ids": [],
        "survey_id": "chaud-2026",
        "platform": "tally",
        "form_url": "https://tally.so/r/chaud",
        "anonymous": False,
        "reminder_days": [3, 7],
        "expires_after_days": 30,
    }
    return base | changes


def version(number: int, rules: list[dict[str, Any]], days_ago: int) -> PlanVersion:
    return PlanVersion.from_api(
        {
            "version": number,
            "effective_from": (NOW - timedelta(days=days_ago)).isoformat(),
            "published_by": "usr-qualite",
            "published_at": (NOW - timedelta(days=days_ago + 1)).isoformat(),
            "rules": rules,
            "note": None,
        }
    )


def surveys() -> FakeSurveys:
    rules = [
        rule("chaud"),
        rule(
            "froid-entreprises",
            label="Enquête à froid entreprises",
            stakeholder="company",
            survey_kind="cold",
            delay_days=60,
            programme_ids=["p-1", "p-2"],
            platform="typeform",
            anonymous=True,
            reminder_days=[7],
        ),
        rule(
            "financeurs",
            label="Bilan annuel financeurs",
            stakeholder="funder",
            survey_kind="annual",
            trigger="yearly",
            platform="boucle",
            reminder_days=[],
        ),
    ]
    return FakeSurveys(versions=[version(1, rules[:1], 200), version(2, rules, 10)], in_force=2)


def text_of(response: httpx.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


async def test_the_plan_in_force_reads_as_sentences_with_its_versions() -> None:
    async with client(FakeActions(), "quality_lead", surveys=surveys()) as http:
        page = await http.get("/collection-plan")
    async with client(FakeActions(), "site_manager", surveys=surveys()) as http:
        manager = await http.get("/collection-plan")
    text = text_of(page)
    assert page.status_code == 200
    assert (
        "Stagiaires : enquête à chaud à la fin de chaque session, relances à 3 et 7 jours, "
        "formulaire Tally" in text
    )
    assert (
        "Entreprises clientes : enquête à froid 60 jours après la fin de chaque session, "
        "relance à 7 jours, formulaire Typeform, anonyme, pour les formations p-1 et p-2" in text
    )
    assert "Financeurs : enquête annuelle une fois par an, sans relance, formulaire Boucle" in text
    assert "Version 2, en vigueur depuis le" in text
    assert "2 (en vigueur)" in text  # the versions' history, newest first
    assert "Règles : 1" in text
    assert 'href="https://console/collection-plan/new"' in page.text
    assert manager.status_code == 200
    assert "collection-plan/new" not in manager.text


async def test_the_quality_lead_adds_and_removes_rules_then_publishes() -> None:
    api = surveys()
    async with client(FakeActions(), "quality_lead", surveys=api) as http:
        blank = await http.get("/collection-plan/new")
        typed = {
            "csrf_token": CSRF,
            "effective_from": "2027-01-01",
            "note": "Ajout des financeurs",
            **{f"rules-0-{k}": str(v) for k, v in rule("chaud").items() if k != "anonymous"},
            "rules-0-reminder_days": "3, 7",
            "rules-0-programme_ids": "p-1; p-2",
            "rules-0-anonymous": "on",
        }
        added = await http.post("/collection-plan/new", data=typed | {"op": "add"})
        removed = await http.post(
            "/collection-plan/new",
            data=typed | {"rules-1-rule_id": "autre", "rules-1-label": "X", "op": "remove-0"},
        )
        published = await http.post("/collection-plan/new", data=typed | {"op": "publish"})
    assert blank.status_code == 200
    assert blank.text.count("<fieldset") == 3  # the rules in force, one fieldset each
    assert 'value="https://tally.so/r/chaud"' in blank.text
    assert added.text.count("<fieldset") == 2
    assert "Règle 2" in added.text
    assert removed.text.count("<fieldset") == 1
    assert 'value="autre"' in removed.text
    assert 'value="chaud"' not in removed.text
    assert len(api.calls) == 1  # adding and removing sent nothing
    assert api.calls[0][0] == "publish"
    assert published.status_code == 303
    body = api.calls[0][1]
    assert body["effective_from"] == "2027-01-01T00:00:00+01:00"  # midnight in Paris
    async with client(FakeActions(), "quality_lead", surveys=api) as http:
        listed = text_of(await http.get("/collection-plan"))
    # the API answers in UTC (23:00 the day before): shown as the day in Paris
    assert re.search(r"\b3 1 janvier 2027 le ", listed), listed
    assert body["note"] == "Ajout des financeurs"
    assert body["rules"][0]["reminder_days"] == [3, 7]
    assert body["rules"][0]["programme_ids"] == ["p-1", "p-2"]
    assert body["rules"][0]["anonymous"] is True
    assert body["rules"][0]["delay_days"] == 0


async def test_a_refused_version_is_shown_again_with_the_services_reason() -> None:
    api = surveys()
    api.refusal = "Les relances doivent être croissantes et précéder la clôture."
    form = {
        "csrf_token": CSRF,
        "effective_from": "2027-01-01",
        **{f"rules-0-{k}": str(v) for k, v in rule("chaud").items()},
        "rules-0-reminder_days": "7, 3",
        "op": "publish",
    }
    async with client(FakeActions(), "quality_lead", surveys=api) as http:
        refused = await http.post("/collection-plan/new", data=form)
        not_a_number = await http.post(
            "/collection-plan/new", data=form | {"rules-0-delay_days": "deux"}
        )
    assert refused.status_code == 422
    assert "Les relances doivent être croissantes et précéder la clôture." in unescape(refused.text)
    assert 'value="7, 3"' in refused.text  # as typed
    assert not_a_number.status_code == 422
    assert "Règle 1 : « Délai après le déclencheur (jours) » doit être un nombre entier." in (
        unescape(not_a_number.text)
    )
    assert len(api.calls) == 1  # the number was caught before any call


async def test_only_the_quality_lead_may_publish_a_plan() -> None:
    api = surveys()
    form = {"csrf_token": CSRF, "effective_from": "2027-01-01", "op": "publish"}
    async with client(FakeActions(), "site_manager", surveys=api) as http:
        manager_form = await http.get("/collection-plan/new")
        manager_post = await http.post("/collection-plan/new", data=form)
    async with client(FakeActions(), "auditor", surveys=api) as http:
        auditor_post = await http.post("/collection-plan/new", data=form)
    assert manager_form.status_code == 403
    assert manager_post.status_code == 403
    assert auditor_post.status_code == 403
    assert api.calls == []


async def test_response_rates_by_site_stakeholder_and_kind_with_non_computable_groups() -> None:
    api = FakeSurveys(
        rates=[
            RateRow(
                {"site_id": "nice", "respondent_role": "funder", "survey_kind": "annual"},
                0,
                0,
                None,
            ),
            RateRow(
                {"site_id": "lyon", "respondent_role": "learner", "survey_kind": "hot"},
                120,
                96,
                0.8,
            ),
            RateRow(
                {"site_id": "lyon", "respondent_role": "company", "survey_kind": "cold"},
                1250,
                512,
                0.4096,
            ),
        ]
    )
    async with client(FakeActions(), "direction", surveys=api) as http:
        page = await http.get("/response-rates")
        by_kind = await http.get("/response-rates", params={"by": ["survey_kind", "nonsense"]})
    text = text_of(page)
    assert page.status_code == 200
    assert api.calls[0] == ("rates", ("site_id", "respondent_role", "survey_kind"))
    assert api.calls[1] == ("rates", ("survey_kind",))
    assert by_kind.status_code == 200
    assert re.search(r"lyon Entreprises clientes À froid 1\u202f250 512 41\s?%", text) or re.search(
        r"lyon Entreprises clientes À froid 1[\s\u202f\xa0]250 512 41[\s\u202f\xa0]?%", text
    )
    assert re.search(r"lyon Stagiaires À chaud 120 96 80[\s\u202f\xa0]%", text)
    assert "nice Financeurs Annuelle 0 0 non calculable" in text
    assert text.index("lyon Entreprises") < text.index("nice Financeurs")  # sorted by group


def public_app(collector: FakeCollector | None, **overrides: Any) -> httpx.AsyncClient:
    app = create_app(
        settings(**overrides),
        actions=FakeActions(),
        reporter=FakeReporter(),
        surveys=FakeSurveys(),
        collector=collector,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://console")


def token(site: str = "lyon", seconds_ago: float = 10.0) -> str:
    """A form token as the page issues it, shown ``seconds_ago``."""
    return FormTokens(SECRET).issue(NET, site, time.time() - seconds_ago)


def message(**changes: str) -> dict[str, str]:
    base = {
        "form_token": token(),
        "kind": "complaint",
        "role": "learner",
        "subject": "",
        "message": "La salle B2 n'est pas chauffée le lundi matin.",
        "email": "",
        "website": "",
    }
    return base | changes


async def test_the_public_form_opens_without_sign_in_and_sets_no_cookie() -> None:
    async with public_app(FakeCollector()) as http:
        page = await http.get("/avis/net-unit/lyon")
        english = await http.get("/avis/net-unit/lyon", params={"lang": "en"})
        crafted = await http.get("/avis/net-unit/..%20x")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers
    assert 'name="form_token"' in page.text
    assert 'name="website"' in page.text
    assert 'aria-hidden="true"' in page.text
    assert "Votre avis compte" in page.text
    assert 'lang="en"' in english.text
    assert "Your say counts" in english.text
    assert crafted.status_code == 404


async def test_a_complaint_and_a_remark_reach_the_collector_anonymously() -> None:
    collector = FakeCollector()
    async with public_app(collector) as http:
        complaint = await http.post("/avis/net-unit/lyon", data=message())
        await http.post(
            "/avis/net-unit/lyon",
            data=message(kind="remark", role="company", message="Merci pour l'accueil."),
        )
        thanks = await http.get(complaint.headers["location"])
    assert complaint.status_code == 303
    assert "set-cookie" not in complaint.headers
    assert complaint.headers["location"] == "https://console/avis/net-unit/lyon/merci?lang=fr"
    assert thanks.status_code == 200
    assert "bien été transmis" in unescape(thanks.text)
    (kind, network, site, body), (kind2, _, _, body2) = collector.posted
    assert (kind, network, site) == ("complaint", NET, "lyon")
    assert body["channel"] == "web_form"
    assert body["complainant_role"] == "learner"
    assert body["subject"] == "La salle B2 n'est pas chauffée le lundi matin."
    assert body["complaint_id"].startswith("web-")
    assert "complainant_ref" not in body
    assert kind2 == "survey_response"
    assert body2["anonymous"] is True
    assert body2["respondent_role"] == "company"
    assert body2["survey_kind"] == "ad_hoc"
    assert body2["comments"][0]["text"] == "Merci pour l'accueil."
    assert "respondent_ref" not in body2


async def test_an_address_goes_only_with_consent() -> None:
    collector = FakeCollector()
    async with public_app(collector) as http:
        without = await http.post("/avis/net-unit/lyon", data=message(email="a@b.example"))
        with_consent = await http.post(
            "/avis/net-unit/lyon", data=message(email="Lea.M@Exemple.fr", consent="on")
        )
        consent_no_address = await http.post("/avis/net-unit/lyon", data=message(consent="on"))
    assert without.status_code == with_consent.status_code == 303
    assert "complainant_ref" not in collector.posted[0][3]
    ref = collector.posted[1][3]["complainant_ref"]
    assert ref == FormTokens(SECRET).contact_ref("lea.m@exemple.fr")  # case does not matter
    assert ref.startswith("pf-")
    assert "exemple" not in ref
    assert consent_no_address.status_code == 422
    assert len(collector.posted) == 2


async def test_robots_floods_and_forged_forms_are_kept_out() -> None:
    collector = FakeCollector()
    async with public_app(collector, public_form_per_site_per_hour=2) as http:
        honeypot = await http.post("/avis/net-unit/lyon", data=message(website="http://spam"))
        too_fast = await http.post(
            "/avis/net-unit/lyon", data=message(form_token=token(seconds_ago=0))
        )
        other_site = await http.post("/avis/net-unit/lyon", data=message(form_token=token("nice")))
        forged = await http.post(
            "/avis/net-unit/lyon", data=message(form_token=token()[:-2] + "xx")
        )
        stale = await http.post(
            "/avis/net-unit/lyon", data=message(form_token=token(seconds_ago=5 * 3600))
        )
        empty = await http.post("/avis/net-unit/lyon", data=message(message="  "))
        first = await http.post("/avis/net-unit/lyon", data=message())
        second = await http.post("/avis/net-unit/lyon", data=message())
        third = await http.post("/avis/net-unit/lyon", data=message())
        other = await http.post("/avis/net-unit/nice", data=message(form_token=token("nice")))
    assert honeypot.status_code == 303  # thanked, and nothing sent
    assert too_fast.status_code == 422
    assert "Prenez le temps" in too_fast.text
    assert "La salle B2" in too_fast.text  # the message is kept
    assert other_site.status_code == forged.status_code == stale.status_code == 400
    assert empty.status_code == 422
    assert "écrivez votre message" in unescape(empty.text)
    assert (first.status_code, second.status_code, third.status_code) == (303, 303, 429)
    assert other.status_code == 303  # the budget is per site
    assert [p[2] for p in collector.posted] == ["lyon", "lyon", "nice"]
    assert all("set-cookie" not in r.headers for r in (too_fast, third, forged))


async def test_without_a_collector_key_the_form_says_it_is_unavailable() -> None:
    async with public_app(None) as http:
        page = await http.get("/avis/net-unit/lyon")
        sent = await http.post("/avis/net-unit/lyon", data=message())
    assert "momentanément indisponible" in unescape(page.text)
    assert sent.status_code == 503


async def test_the_site_manager_gets_the_link_and_qr_code_of_their_site() -> None:
    async with client(FakeActions(), "site_manager") as http:
        page = await http.get("/public-form")
        png = await http.get("/public-form/lyon/qr.png")
        svg = await http.get("/public-form/lyon/qr.svg")
        other = await http.get("/public-form/nice/qr.png")
    async with client(FakeActions(), "quality_lead") as http:
        lead = await http.get("/public-form", params={"site": "nice"})
    async with client(FakeActions(), "auditor") as http:
        auditor = await http.get("/public-form")
    assert page.status_code == 200
    assert 'href="https://console/avis/net-unit/lyon"' in page.text
    assert "<svg" in page.text
    assert png.content.startswith(b"\x89PNG")
    assert png.headers["content-disposition"] == 'attachment; filename="avis-lyon.png"'
    assert svg.content.lstrip().startswith(b"<?xml") or b"<svg" in svg.content[:200]
    assert other.status_code == 404
    assert 'href="https://console/avis/net-unit/nice"' in lead.text
    assert auditor.status_code == 403


def completed() -> FakeActions:
    api = FakeActions()
    api.actions_by_id["a-done"] = action(
        "a-done",
        "done",
        problem="Les stagiaires avaient froid le lundi matin",
        measures=("Chauffage programmé à 6 h", "Thermomètre dans chaque salle"),
        done_at=NOW - timedelta(days=3),
    )
    api.actions_by_id["a-eff"] = action(
        "a-eff", "effective", title="Supports en ligne", done_at=NOW - timedelta(days=40)
    )
    api.actions_by_id["a-doing"] = action("a-doing", "in_progress", title="En cours")
    api.actions_by_id["a-nice"] = action("a-nice", "done", site_id="nice", title="À Nice")
    return api


async def test_the_note_tells_completed_measures_and_records_who_was_informed() -> None:
    api = completed()
    async with client(api, "site_manager") as http:
        index = await http.get("/notes")
        note = await http.get("/notes/lyon")
        recorded = await http.post(
            "/notes/lyon/published",
            data={
                "csrf_token": CSRF,
                "who": "Stagiaires de Lyon",
                "how": "affichage",
                "on": "2026-12-04",
            },
        )
        after = await http.get("/notes/lyon")
        again = await http.post(
            "/notes/lyon/published",
            data={"csrf_token": CSRF, "who": "Stagiaires", "how": "e-mail", "on": "2026-12-05"},
        )
        other_site = await http.post(
            "/notes/nice/published",
            data={"csrf_token": CSRF, "who": "x", "how": "y", "on": "2026-12-05"},
        )
    text = text_of(note)
    assert 'href="https://console/notes/lyon"' in index.text
    assert "Vous nous avez dit : Les stagiaires avaient froid le lundi matin" in text
    assert "Chauffage programmé à 6 h" in text
    assert "Supports en ligne" in text
    assert "efficacité vérifiée" in text
    assert "En cours" not in text
    assert "À Nice" not in text
    assert text.index("Chauffer les salles") < text.index("Supports en ligne")  # latest first
    assert recorded.status_code == 303
    updates = [(a, c) for a, kind, c in api.calls if kind == "update"]
    assert sorted(a for a, _ in updates) == ["a-done", "a-eff"]
    notice = updates[0][1]["stakeholders_informed"][-1]
    assert notice["who"] == "Stagiaires de Lyon"
    assert notice["how"] == "affichage"
    assert notice["when"].startswith("2026-12-04T12:00:00+01:00")
    assert "Communiqué à Stagiaires de Lyon le 4 décembre 2026 (affichage)" in text_of(after)
    assert 'action="https://console/notes/lyon/published"' not in after.text
    assert again.status_code == 409  # told already: not recorded twice
    assert other_site.status_code == 403


async def test_an_auditor_reads_the_note_without_recording_anything() -> None:
    api = completed()
    async with client(api, "auditor") as http:
        note = await http.get("/notes/lyon")
        refused = await http.post(
            "/notes/lyon/published",
            data={"csrf_token": CSRF, "who": "x", "how": "y", "on": "2026-12-05"},
        )
    assert note.status_code == 200
    assert "Chauffage programmé à 6 h" in unescape(note.text)
    assert "/published" not in note.text
    assert refused.status_code == 403
    assert [c for c in api.calls if c[1] == "update"] == []


def test_a_rule_reads_in_english_too_with_english_punctuation() -> None:
    from boucle_console import locale
    from boucle_console.adapters.surveys import RuleView
    from boucle_console.domain.plan import sentence

    hot = RuleView.from_api(rule("chaud"))
    dropout = RuleView.from_api(
        rule("abandon", trigger="dropout", delay_days=14, reminder_days=[5], platform="other")
    )
    assert sentence(hot, locale.translator("en"), "en") == (
        "Learners: hot survey at the end of each session, reminders after 3 and 7 days, Tally form"
    )
    assert sentence(dropout, locale.translator("fr"), "fr") == (
        "Stagiaires : enquête à chaud 14 jours après chaque abandon, relance à 5 jours, "
        "formulaire other"
    )
