"""E-mail reminders: which are due, to whom, in French, never twice, and unsubscribing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from prometheus_client import CollectorRegistry

from boucle_console.app import create_app
from boucle_console.metrics import ConsoleMetrics
from boucle_console.notify.reminders import Kind, Recipients, due_reminders
from boucle_console.notify.runner import Notifier
from boucle_console.notify.state import FileState, MemoryState
from boucle_console.session import COOKIE
from boucle_runtime.auth import TokenVerifier
from tests.unit.console.console_support import (
    CSRF,
    ISSUER,
    NET,
    NOW,
    SECRET,
    FakeActions,
    FakeReporter,
    action,
    case,
    session_cookie,
    settings,
)

pytestmark = pytest.mark.unit

RECIPIENTS = Recipients(
    quality_lead=("qualite@reseau.example",),
    direction=("direction@reseau.example",),
    sites={"lyon": ("site-lyon@reseau.example",)},
)


@dataclass
class FakeMailer:
    sent: list[EmailMessage] = field(default_factory=list)
    failing: bool = False

    async def send(self, message: EmailMessage) -> None:
        if self.failing:
            raise ConnectionRefusedError("no SMTP server")
        self.sent.append(message)


def fake() -> FakeActions:
    api = FakeActions()
    for item in (
        case("c-ack-soon", "lyon", acknowledge_due_at=NOW + timedelta(hours=10)),
        case("c-ack-later", "lyon", acknowledge_due_at=NOW + timedelta(hours=20)),
        case(
            "c-answer-soon",
            "paris",
            status="acknowledged",
            answer_due_at=NOW + timedelta(hours=30),
        ),
        case("c-late", "lyon", acknowledge_due_at=NOW - timedelta(hours=2)),
        case("c-answered", "lyon", status="answered", answer_due_at=NOW + timedelta(hours=1)),
    ):
        api.cases_by_id[item.case_id] = item
    api.actions_by_id["a-proposed"] = action(
        "a-proposed", "proposed", proposed_at=NOW - timedelta(days=2)
    )
    api.actions_by_id["a-validated"] = action("a-validated", "validated")  # due in 30 days
    api.actions_by_id["a-due"] = action(
        "a-due", "in_progress", due_date=(NOW + timedelta(days=3)).date()
    )
    return api


def notifier(api: FakeActions, mailer: FakeMailer, state: MemoryState | FileState) -> Notifier:
    token = ISSUER.token(network_id=NET, role="quality_lead", subject="boucle-notifier")
    return Notifier(
        actions=api,
        verifier=TokenVerifier(settings()),
        token=lambda: token,
        recipients=RECIPIENTS,
        state=state,
        mailer=mailer,
        metrics=ConsoleMetrics(CollectorRegistry()),
        sender="Boucle <notifications@boucle.local>",
        secret=SECRET,
        public_url="https://console.example",
        clock=lambda: NOW,
    )


def test_reminders_due_are_deadlines_within_their_warning_and_plans_proposed() -> None:
    api = fake()
    found = due_reminders(api.cases_by_id.values(), api.actions_by_id.values(), NOW)
    assert [(r.kind, r.item_id) for r in found] == [
        (Kind.ACKNOWLEDGE, "c-late"),
        (Kind.ACKNOWLEDGE, "c-ack-soon"),
        (Kind.ANSWER, "c-answer-soon"),
        (Kind.DUE, "a-due"),
        (Kind.VALIDATION, "a-proposed"),
    ]
    moved = replace(api.cases_by_id["c-ack-soon"], acknowledge_due_at=NOW + timedelta(hours=11))
    again = due_reminders([moved], [], NOW)
    assert again[0].key != found[1].key  # a new deadline is a new reminder


def test_recipients_by_site_and_role_with_the_quality_lead_as_fallback() -> None:
    found = {
        r.item_id: r
        for r in due_reminders(fake().cases_by_id.values(), fake().actions_by_id.values(), NOW)
    }
    assert RECIPIENTS.of(found["c-ack-soon"]) == ("site-lyon@reseau.example",)
    assert RECIPIENTS.of(found["c-answer-soon"]) == ("qualite@reseau.example",)  # no paris
    assert RECIPIENTS.of(found["a-proposed"]) == ("direction@reseau.example",)


async def test_each_reminder_is_sent_once_in_french_with_a_link_and_an_unsubscribe() -> None:
    mailer, state = FakeMailer(), MemoryState()
    sent = await notifier(fake(), mailer, state).run_once()
    again = await notifier(fake(), mailer, state).run_once()
    assert sent == 5
    assert again == 0
    assert len(mailer.sent) == 5
    ack = next(m for m in mailer.sent if "c-ack-soon" in m.get_content())
    assert ack["To"] == "site-lyon@reseau.example"
    assert ack["Subject"].startswith("Réclamation à prendre en compte avant le ")
    assert ack["Subject"].endswith(" — site lyon")
    body = ack.get_content().replace("\xa0", " ")  # Babel's non-breaking spaces
    assert "attend sa prise en compte" in body
    assert "https://console.example/cases/c-ack-soon" in body
    assert "dans 10 heures" in body
    assert "https://console.example/notifications/unsubscribe?" in ack["List-Unsubscribe"]
    late = next(m for m in mailer.sent if "c-late" in m.get_content())
    assert "Échéance dépassée depuis 2 heures" in late.get_content().replace("\xa0", " ")
    plan = next(m for m in mailer.sent if m["To"] == "direction@reseau.example")
    assert plan["Subject"] == "Plan d'action en attente de validation — site lyon"
    assert "en attente depuis 2 jours" in plan.get_content().replace("\xa0", " ")
    due = next(m for m in mailer.sent if "/actions/a-due" in m.get_content())
    assert due["To"] == "site-lyon@reseau.example"
    assert due["Subject"].startswith("Mesures à réaliser avant le ")


async def test_a_failed_send_is_tried_again_and_an_unsubscribed_address_is_skipped(
    tmp_path: Path,
) -> None:
    state = FileState(tmp_path / "state.json")
    await state.unsubscribe("direction@reseau.example", "validation")
    failing = FakeMailer(failing=True)
    assert await notifier(fake(), failing, state).run_once() == 0
    mailer = FakeMailer()
    assert await notifier(fake(), mailer, FileState(tmp_path / "state.json")).run_once() == 4
    assert "direction@reseau.example" not in [m["To"] for m in mailer.sent]
    assert await notifier(fake(), mailer, FileState(tmp_path / "state.json")).run_once() == 0


async def test_the_unsubscribe_link_confirms_then_stops_that_kind_only() -> None:
    mailer, state = FakeMailer(), MemoryState()
    await notifier(fake(), mailer, state).run_once()
    ack = next(m for m in mailer.sent if "c-ack-soon" in m.get_content())
    link = ack["List-Unsubscribe"].strip("<>")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    app = create_app(settings(), actions=fake(), reporter=FakeReporter())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console"
    ) as http:
        page = await http.get("/notifications/unsubscribe", params=query)
        forged = await http.get(
            "/notifications/unsubscribe", params=query | {"a": "someone@else.example"}
        )
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = await http.post("/notifications/unsubscribe", data=query | {"csrf_token": token})
        state_of_app = app.state
    assert page.status_code == 200
    assert "Confirmer le désabonnement" in page.text
    assert forged.status_code == 403
    assert done.status_code == 200
    assert "plus de rappels de prise en compte pour site-lyon@reseau.example" in done.text
    assert state_of_app.notifier is None  # off unless configured


async def test_the_console_runs_the_notifier_when_configured(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(ISSUER.token(network_id=NET, role="quality_lead", subject="notifier"))
    recipients = tmp_path / "recipients.json"
    recipients.write_text(json.dumps({"quality_lead": ["qualite@reseau.example"]}))
    mailer = FakeMailer()
    app = create_app(
        settings(
            notify_enabled=True,
            notify_token_file=str(token_file),
            notify_recipients_file=str(recipients),
            notify_state_path=str(tmp_path / "state.json"),
        ),
        actions=fake(),
        reporter=FakeReporter(),
        mailer=mailer,
    )
    async with app.router.lifespan_context(app):
        for _ in range(200):  # the first round runs at start
            if len(mailer.sent) == 5:
                break
            await asyncio.sleep(0.02)
    assert {m["To"] for m in mailer.sent} == {"qualite@reseau.example"}
    assert len(mailer.sent) == 5
    saved = json.loads((tmp_path / "state.json").read_text())
    assert len(saved["sent"]) == 5


async def test_a_person_chooses_their_reminders_and_the_notifier_follows() -> None:
    app = create_app(settings(), actions=fake(), reporter=FakeReporter())
    cookie = session_cookie("site_manager", email="site-lyon@reseau.example")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console", cookies={COOKIE: cookie}
    ) as http:
        page = await http.get("/notifications")
        saved = await http.post(
            "/notifications", data={"csrf_token": CSRF, "kind": ["answer", "validation"]}
        )
        after = await http.get("/notifications")
    assert "site-lyon@reseau.example" in page.text
    assert 'value="acknowledge" checked' in page.text
    assert saved.status_code == 303
    assert "Vos choix de rappels sont enregistrés." in unescape(after.text)
    assert 'value="acknowledge">' in after.text  # no longer checked
    assert 'value="answer" checked' in after.text
    mailer = FakeMailer()
    await notifier(fake(), mailer, app.state.notify_state).run_once()
    assert "site-lyon@reseau.example" not in [m["To"] for m in mailer.sent]  # only acks for lyon


async def test_without_an_address_the_preferences_say_so() -> None:
    app = create_app(settings(), actions=fake(), reporter=FakeReporter())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://console",
        cookies={COOKIE: session_cookie("quality_lead")},
    ) as http:
        page = await http.get("/notifications")
        refused = await http.post("/notifications", data={"csrf_token": CSRF})
    assert "ne donne pas d'adresse e-mail" in unescape(page.text)
    assert refused.status_code == 409
