"""The quality lead's work in the console against the real stack (actions, reporter, broker,
database): a problem the analyzer published becomes a plan, the direction validates it,
the site manager records progress and evidence, the quality lead asks for an evaluation;
a meeting's decision becomes an action; the tracking table and the dossier download through
the console; reminders reach the local SMTP server (Mailpit), read back through its API."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from boucle_console.adapters.api import HttpActionsApi
from boucle_console.metrics import ConsoleMetrics
from boucle_console.notify.mailer import SmtpMailer
from boucle_console.notify.reminders import Recipients
from boucle_console.notify.runner import Notifier
from boucle_console.notify.state import MemoryState
from boucle_console.settings import ConsoleSettings
from boucle_runtime.auth import TokenVerifier
from tests.integration.console_support import (
    api,
    browser,
    case_of,
    console_stack,
    csrf,
    draft_of,
    publish_complaint,
    publish_problem,
    token,
)
from tools.localstack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    yield from console_stack(kafka_bootstrap, mongodb_uri, tmp_path_factory.mktemp("logs"))


async def test_a_problem_becomes_a_validated_plan_carried_out_and_evaluated(stack: Stack) -> None:
    subject = "Plateforme inaccessible toute la semaine"
    await publish_complaint(stack, "lyon", subject)
    case = case_of(stack, subject)
    problem_id = await publish_problem(stack, ("lyon",), complaint_ids=(case["source_ref"],))
    draft = draft_of(stack, problem_id)
    action_id = draft["action_id"]
    due = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    with browser(stack, "quality_lead") as http:
        listing = http.get("/problems", params={"site": "lyon"})
        page = http.get(f"/problems/{action_id}")
        planned = http.post(
            f"/problems/{action_id}/plan",
            data={
                "csrf_token": csrf(page.text),
                "objective": "Satisfaction moyenne de nouveau au-dessus de 4",
                "measures": "Changer d'hébergeur\nFormer les formateurs à la plateforme",
                "owner": "usr-resp-lyon",
                "due_date": due,
            },
        )
    assert f"/problems/{action_id}" in listing.text
    text = unescape(page.text)
    assert "(n = 212)" in text  # the baseline's sample size
    assert "La plateforme : <strong>72" in text
    assert f"/cases/{case['case_id']}" in text  # the related complaint, as its case
    assert planned.status_code == 303
    with api(stack) as check:
        stored = check.get(f"/actions/{action_id}").json()
    assert stored["status"] == "proposed"
    assert stored["measures"] == ["Changer d'hébergeur", "Former les formateurs à la plateforme"]
    assert stored["owner"] == "usr-resp-lyon"
    assert stored["due_date"] == due
    with browser(stack, "direction") as http:
        page = http.get(f"/actions/{action_id}")
        validated = http.post(
            f"/actions/{action_id}/validate", data={"csrf_token": csrf(page.text)}
        )
    assert validated.status_code == 303
    with browser(stack, "site_manager", ("paris",)) as http:
        assert http.get(f"/problems/{action_id}").status_code == 403
        assert f"/problems/{action_id}" not in http.get("/problems").text
    with browser(stack, "site_manager", ("lyon",)) as http:
        page = http.get(f"/actions/{action_id}")
        token = csrf(page.text)
        steps = [
            http.post(
                f"/actions/{action_id}/progress",
                data={"csrf_token": token, "to": "in_progress", "note": "Hébergeur choisi"},
            ),
            http.post(
                f"/actions/{action_id}/documents",
                data={"csrf_token": token, "reference": "Bon de commande 2026-118"},
            ),
            http.post(
                f"/actions/{action_id}/progress",
                data={"csrf_token": token, "to": "done", "note": "Migration faite"},
            ),
            http.post(f"/actions/{action_id}/evaluation", data={"csrf_token": token}),
        ]
    assert [s.status_code for s in steps] == [303, 303, 303, 403]
    with browser(stack, "quality_lead") as http:
        page = http.get(f"/actions/{action_id}")
        assert "Demander l'évaluation d'efficacité" in unescape(page.text)
        evaluated = http.post(
            f"/actions/{action_id}/evaluation", data={"csrf_token": csrf(page.text)}
        )
    assert evaluated.status_code == 303
    with api(stack) as check:
        stored = check.get(f"/actions/{action_id}").json()
    assert stored["documents"] == ["Bon de commande 2026-118"]
    assert len(stored["evaluations"]) == 1
    notes = [h.get("note") for h in stored["history"]]
    assert "Hébergeur choisi" in notes
    assert "Migration faite" in notes


def test_a_meeting_is_recorded_and_its_decision_becomes_an_action(stack: Stack) -> None:
    with browser(stack, "site_manager", ("lyon",)) as http:
        listing = http.get("/meetings")
        recorded = http.post(
            "/meetings",
            data={
                "csrf_token": csrf(listing.text),
                "title": "Réunion mensuelle de novembre",
                "held_at": "2026-11-30T14:00",
                "site_id": "lyon",
                "attendees": "usr-resp-lyon\nformateur référent",
                "data_reviewed": "Rapport d'amélioration de novembre",
                "decisions": "Afficher les horaires de chauffage\nRevoir l'accueil du lundi",
            },
        )
        assert recorded.status_code == 303
        meeting_id = recorded.headers["location"].rsplit("/", 1)[-1]
        page = http.get(f"/meetings/{meeting_id}")
        made = http.post(
            f"/meetings/{meeting_id}/decisions/1", data={"csrf_token": csrf(page.text)}
        )
        again = http.post(
            f"/meetings/{meeting_id}/decisions/1", data={"csrf_token": csrf(page.text)}
        )
        after = http.get(f"/meetings/{meeting_id}")
    assert made.status_code == again.status_code == 303
    assert made.headers["location"] == again.headers["location"]  # the same action, once
    action_id = made.headers["location"].rsplit("/", 1)[-1]
    assert "Revoir l'accueil du lundi" in unescape(after.text)
    with api(stack) as check:
        meeting = check.get(f"/meetings/{meeting_id}").json()
        action = check.get(f"/actions/{action_id}").json()
    assert meeting["attendees"] == ["usr-resp-lyon", "formateur référent"]
    assert meeting["held_at"].startswith("2026-11-30T13:00")  # 14:00 in Paris
    assert action["meeting_id"] == meeting_id
    assert action["origin"] == "meeting"
    assert action["status"] == "draft"
    with browser(stack, "auditor", ("lyon",)) as http:
        page = http.get(f"/meetings/{meeting_id}")
    assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == [
        f"{stack['console'].url}/logout"
    ]


def test_the_tracking_table_and_dossier_download_through_the_console(stack: Stack) -> None:
    with browser(stack, "auditor", ("lyon",)) as http:
        page = http.get("/dossier")
        xlsx = http.get("/dossier/tracking-table.xlsx")
        csv = http.get("/dossier/tracking-table.csv")
    assert page.status_code == 200
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"  # a zip: the XLSX container
    assert csv.status_code == 200
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv.headers["content-disposition"]
    with browser(stack, "site_manager", ("lyon",)) as http:
        assert http.get("/dossier/tracking-table.csv").status_code == 403


def test_the_quality_lead_builds_the_dossier_and_downloads_its_zip(stack: Stack) -> None:
    today = datetime.now(UTC).date()
    with browser(stack, "quality_lead") as http:
        page = http.get("/dossier")
        asked = http.post(
            "/dossier/builds",
            data={
                "csrf_token": csrf(page.text),
                "start": (today - timedelta(days=90)).isoformat(),
                "end": today.isoformat(),
            },
        )
        assert asked.status_code == 303
        link = None
        deadline = time.monotonic() + 120
        while link is None and time.monotonic() < deadline:
            found = re.search(
                r'href="([^"]+/dossier/builds/[0-9a-f]{32}\.zip)"', http.get("/dossier").text
            )
            link = found.group(1) if found else None
            time.sleep(0.5)
        assert link, "the dossier was not built within 120 s"
        archive = http.get(link)
    assert archive.status_code == 200
    assert archive.content[:2] == b"PK"
    assert "dossier-de-preuves" in archive.headers["content-disposition"]


@pytest.fixture(scope="module")
def mailpit() -> Iterator[httpx.Client]:
    url = os.environ.get("MAILPIT_API_URL")
    if not url or not os.environ.get("SMTP_PORT"):
        pytest.fail(
            "No SMTP server: run `deploy/local/services.sh start mail` and "
            '`eval "$(deploy/local/services.sh env)"`, or set SMTP_HOST, SMTP_PORT and '
            "MAILPIT_API_URL."
        )
    with httpx.Client(base_url=f"{url.rstrip('/')}/api/v1", timeout=10) as client:
        yield client


def messages_to(mailpit: httpx.Client, address: str, count: int) -> list[dict[str, Any]]:
    """The messages to ``address`` once ``count`` have arrived (delivery is quick); all of
    them, so that a duplicate would show."""
    deadline = time.monotonic() + 15
    while True:
        answer = mailpit.get("/search", params={"query": f"to:{address}", "limit": 50})
        answer.raise_for_status()
        found = [m for m in answer.json()["messages"] if address in [t["Address"] for t in m["To"]]]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def text_of(mailpit: httpx.Client, message_id: str) -> str:
    answer = mailpit.get(f"/message/{message_id}")
    answer.raise_for_status()
    return str(answer.json()["Text"]).replace("\r\n", "\n")


def delete(mailpit: httpx.Client, ids: list[str]) -> None:
    """The inbox is shared by everyone's tests: leave it as found."""
    mailpit.request("DELETE", "/messages", json={"IDs": ids})


async def test_reminders_reach_the_smtp_inbox_once_each(
    stack: Stack, mailpit: httpx.Client
) -> None:
    run = uuid.uuid4().hex[:8]
    site_address = f"site-lyon-{run}@reseau-horizon.example"
    direction_address = f"direction-{run}@reseau-horizon.example"
    subject = f"Salle informatique fermée sans prévenir ({run})"
    await publish_complaint(stack, "lyon", subject, hours_ago=40)  # 8 h left of 48
    case = case_of(stack, subject)
    due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    with api(stack) as http:
        plan = http.post(
            "/actions",
            json={
                "title": f"Ouvrir la salle informatique dès 8 h ({run})",
                "problem": "Salle fermée à l'arrivée des apprenants",
                "measures": ["Confier une clé au formateur du matin"],
                "owner": "usr-resp-lyon",
                "due_date": due,
                "site_id": "lyon",
            },
        ).json()
    assert plan["status"] == "proposed"
    settings = ConsoleSettings(
        auth_issuer=stack.config.issuer.issuer,
        auth_audience=stack.config.issuer.audience,
        auth_public_key=stack.config.issuer.public_pem,
    )
    access = token(stack, "quality_lead")
    async with httpx.AsyncClient(base_url=stack["actions"].url, timeout=15) as client:
        notifier = Notifier(
            actions=HttpActionsApi(client),
            verifier=TokenVerifier(settings),
            token=lambda: access,
            recipients=Recipients(direction=(direction_address,), sites={"lyon": (site_address,)}),
            state=MemoryState(),
            mailer=SmtpMailer(
                os.environ.get("SMTP_HOST", "127.0.0.1"), int(os.environ["SMTP_PORT"])
            ),
            metrics=ConsoleMetrics(CollectorRegistry()),
            sender="Boucle <notifications@boucle.local>",
            secret="integration-secret",
            public_url=stack["console"].url,
        )
        first = await notifier.run_once()
        second = await notifier.run_once()
    assert first >= 2  # other tests' cases of this stack may be due too
    assert second == 0
    to_site = messages_to(mailpit, site_address, 1)
    to_direction = messages_to(mailpit, direction_address, 1)
    try:
        ours = [m for m in to_site if m["Subject"].startswith("Réclamation à prendre en compte")]
        assert len(ours) == 1
        assert ours[0]["Subject"].endswith("— site lyon")
        body = text_of(mailpit, ours[0]["ID"])
        assert subject in body
        assert f"{stack['console'].url}/cases/{case['case_id']}" in body
        assert "/notifications/unsubscribe?" in body
        assert len(to_direction) == 1
        assert to_direction[0]["Subject"] == "Plan d'action en attente de validation — site lyon"
    finally:
        delete(mailpit, [m["ID"] for m in (*to_site, *to_direction)])
