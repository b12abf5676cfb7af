"""The local SMTP server with an inbox API (Mailpit, deploy/local/services.sh start mail).

A French notification goes out over SMTP, as the console's reminders will, and is read back
through Mailpit's HTTP API: subject, recipients and UTF-8 body arrive intact. The inbox is
shared by everyone's tests: each message carries a unique token and is found (and deleted)
by it.
"""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Mail:
    smtp_host: str
    smtp_port: int
    api: str


@pytest.fixture(scope="module")
def mail() -> Mail:
    api = os.environ.get("MAILPIT_API_URL")
    port = os.environ.get("SMTP_PORT")
    if not api or not port:
        pytest.fail(
            "No SMTP server: run `deploy/local/services.sh start mail` and "
            '`eval "$(deploy/local/services.sh env)"` (or `make test`), or set SMTP_HOST, '
            "SMTP_PORT and MAILPIT_API_URL."
        )
    return Mail(os.environ.get("SMTP_HOST", "127.0.0.1"), int(port), api.rstrip("/"))


@pytest.fixture
def inbox(mail: Mail) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{mail.api}/api/v1", timeout=10) as client:
        yield client


def french_message(token: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(("Boucle — qualité", "notifications@boucle.local"))
    message["To"] = ", ".join(
        [
            formataddr(("Élodie Prévost", "elodie.prevost@reseau-horizon.example")),
            "site-lyon@reseau-horizon.example",
        ]
    )
    message["Cc"] = formataddr(("Claire Martin", "qualite@reseau-horizon.example"))
    message["Subject"] = f"Réclamation à accuser réception avant 48 h — Lyon ({token})"
    message["Message-ID"] = make_msgid(idstring=token, domain="boucle.local")
    message.set_content(
        "Bonjour Élodie,\n\n"
        "Une réclamation déposée le 2 décembre attend toujours un accusé de réception.\n"
        "Échéance : jeudi à 14 h ; coût estimé de la formation : 1 250 €.\n"
        "« Vous nous avez dit, nous avons agi. »\n"
    )
    message.add_alternative(
        "<p>Bonjour Élodie,</p><p>Une réclamation attend un accusé de réception "
        "(échéance : jeudi à 14 h).</p>",
        subtype="html",
    )
    return message


def find(inbox: httpx.Client, token: str) -> dict[str, Any]:
    """The summary of the message whose subject carries ``token`` (delivery is quick)."""
    deadline = time.monotonic() + 10
    while True:
        answer = inbox.get("/search", params={"query": token, "limit": 10})
        answer.raise_for_status()
        found = [m for m in answer.json()["messages"] if token in m["Subject"]]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, answer.json()
            summary: dict[str, Any] = found[0]
            return summary
        time.sleep(0.2)


def addresses(people: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(person["Name"], person["Address"]) for person in people]


@pytest.mark.parametrize("login", [False, True], ids=["anonymous", "with-login"])
def test_a_french_message_sent_over_smtp_is_read_back_intact(
    mail: Mail, inbox: httpx.Client, login: bool
) -> None:
    token = uuid.uuid4().hex
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=10) as smtp:
        if login:  # any credentials are accepted locally: services configured with some work
            smtp.login("boucle-console", "mot-de-passe-local")
        refused = smtp.send_message(french_message(token))
    assert refused == {}

    summary = find(inbox, token)
    try:
        assert summary["Subject"] == f"Réclamation à accuser réception avant 48 h — Lyon ({token})"
        assert addresses([summary["From"]]) == [("Boucle — qualité", "notifications@boucle.local")]
        assert addresses(summary["To"]) == [
            ("Élodie Prévost", "elodie.prevost@reseau-horizon.example"),
            ("", "site-lyon@reseau-horizon.example"),
        ]
        assert addresses(summary["Cc"]) == [("Claire Martin", "qualite@reseau-horizon.example")]

        full = inbox.get(f"/message/{summary['ID']}")
        full.raise_for_status()
        body = full.json()
        assert token in body["MessageID"]
        text = body["Text"].replace("\r\n", "\n")
        assert "Bonjour Élodie," in text
        assert "coût estimé de la formation : 1 250 €." in text
        assert "« Vous nous avez dit, nous avons agi. »" in text
        assert "échéance : jeudi à 14 h" in body["HTML"]
    finally:
        inbox.request("DELETE", "/messages", json={"IDs": [summary["ID"]]})


def test_the_inbox_api_answers(inbox: httpx.Client) -> None:
    answer = inbox.get("/messages", params={"limit": 1})
    assert answer.status_code == 200
    assert {"total", "messages"} <= set(answer.json())
