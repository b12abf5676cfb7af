"""The console against the real stack (actions, reporter, broker, database) with real tokens.

Sessions are made as sign-in makes them (the person's access token, encrypted with the
console's secret); signing in through the identity provider itself is the browser test's
part (test_console_browser.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.integration.console_support import (
    api,
    browser,
    case_of,
    console_stack,
    csrf,
    publish_complaint,
)
from tools.localstack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    yield from console_stack(kafka_bootstrap, mongodb_uri, tmp_path_factory.mktemp("logs"))


def sections(html: str) -> dict[str, str]:
    """Inbox section title -> its HTML."""
    parts = re.split(r'<h2 id="s-\d">', html)[1:]
    return {part.split(" <span")[0]: part for part in parts}


async def test_a_site_manager_acknowledges_and_answers_a_complaint(stack: Stack) -> None:
    subject = "Salle 3 sans chauffage le matin"
    await publish_complaint(stack, "lyon", subject)
    case = case_of(stack, subject)
    with browser(stack, "site_manager", ("lyon",)) as http:
        inbox = http.get("/")
        assert inbox.status_code == 200
        assert subject in sections(inbox.text)["À prendre en compte"]
        page = http.get(f"/cases/{case['case_id']}")
        assert 'lang="fr"' in page.text
        assert "Accuser réception" in page.text
        acknowledged = http.post(
            f"/cases/{case['case_id']}/acknowledge",
            data={"csrf_token": csrf(page.text), "note": "Nous regardons cela."},
        )
        assert acknowledged.status_code == 303
        page = http.get(f"/cases/{case['case_id']}")
        assert "Prise en compte enregistrée." in page.text
        assert subject in sections(http.get("/").text)["À analyser et répondre"]
        answered = http.post(
            f"/cases/{case['case_id']}/answer",
            data={
                "csrf_token": csrf(page.text),
                "root_cause": "Programmation du chauffage arrêtée le week-end",
                "answer": "Le chauffage démarre désormais à 6 h.",
            },
        )
        assert answered.status_code == 303
        after = sections(http.get("/").text)
    assert subject not in after["À prendre en compte"]
    assert subject not in after["À analyser et répondre"]
    assert subject in after["Répondues"]
    with api(stack) as check:
        stored = check.get(f"/cases/{case['case_id']}").json()
    assert stored["status"] == "answered"
    assert stored["root_cause"] == "Programmation du chauffage arrêtée le week-end"
    assert stored["answer"] == "Le chauffage démarre désormais à 6 h."


async def test_another_sites_manager_is_refused_on_a_crafted_url(stack: Stack) -> None:
    subject = "Formateur absent sans prévenir"
    await publish_complaint(stack, "lyon", subject)
    case = case_of(stack, subject)
    with browser(stack, "site_manager", ("paris",)) as http:
        own = http.get("/")
        page = http.get(f"/cases/{case['case_id']}")
        form = csrf(own.text)  # a valid token of this session: only the site is wrong
        posted = http.post(f"/cases/{case['case_id']}/acknowledge", data={"csrf_token": form})
    assert subject not in own.text
    assert page.status_code == 403
    assert "Vous n'avez pas accès" in unescape(page.text)
    assert posted.status_code == 403
    with api(stack) as check:
        assert check.get(f"/cases/{case['case_id']}").json()["status"] == "received"


async def test_an_auditor_reads_without_write_controls_and_is_refused_writes(
    stack: Stack,
) -> None:
    subject = "Support de cours illisible"
    await publish_complaint(stack, "lyon", subject)
    case = case_of(stack, subject)
    with browser(stack, "auditor", ("lyon",)) as http:
        inbox = http.get("/")
        page = http.get(f"/cases/{case['case_id']}")
        token = csrf(page.text)  # the logout form's: the auditor has no other form
        refused = [
            http.post(f"/cases/{case['case_id']}/{step}", data=data | {"csrf_token": token})
            for step, data in (
                ("acknowledge", {}),
                ("root-cause", {"root_cause": "x"}),
                ("answer", {"answer": "x", "root_cause": "x"}),
            )
        ]
    assert subject in inbox.text
    assert page.status_code == 200
    assert "Consultation seule" in page.text
    assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == [
        f"{stack['console'].url}/logout"
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    with api(stack) as check:
        assert check.get(f"/cases/{case['case_id']}").json()["status"] == "received"


def test_the_quality_lead_validates_a_plan_and_sends_another_back(stack: Stack) -> None:
    due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    plan = {
        "title": "Chauffer les salles avant 8 h",
        "problem": "Plaintes répétées sur le froid le lundi matin",
        "measures": ["Programmer le chauffage dès 6 h"],
        "owner": "usr-resp-lyon",
        "due_date": due,
        "site_id": "lyon",
    }
    with api(stack) as http:
        first = http.post("/actions", json=plan).json()
        second = http.post("/actions", json=plan | {"title": "Revoir les horaires"}).json()
    assert first["status"] == second["status"] == "proposed"
    with browser(stack, "quality_lead") as http:
        listing = http.get("/actions")
        page = http.get(f"/actions/{first['action_id']}")
        validated = http.post(
            f"/actions/{first['action_id']}/validate", data={"csrf_token": csrf(page.text)}
        )
        sent_back = http.post(
            f"/actions/{second['action_id']}/send-back",
            data={"csrf_token": csrf(page.text), "comment": "Chiffrer le coût du chauffage"},
        )
    assert "À valider" in listing.text
    assert validated.status_code == 303
    assert sent_back.status_code == 303
    with api(stack) as http:
        assert http.get(f"/actions/{first['action_id']}").json()["status"] == "validated"
        back = http.get(f"/actions/{second['action_id']}").json()
    assert back["status"] == "draft"
    assert back["history"][-1]["note"] == "Chiffrer le coût du chauffage"
    with browser(stack, "site_manager", ("lyon",)) as http:
        page = http.get(f"/actions/{second['action_id']}")
        refused = http.post(
            f"/actions/{second['action_id']}/validate", data={"csrf_token": csrf(page.text)}
        )
    assert "Valider le plan" not in page.text
    assert refused.status_code == 403
