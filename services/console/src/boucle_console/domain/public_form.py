"""The public form of a site: what a learner, a company or a funder leaves, and how abuse is
kept out without tracking anyone. Pure (the clock is given).

- A **form token** travels in the form itself, signed: the site, the moment the form was
  shown and the message's id. Sent too fast (a robot), too late, for another site, or
  altered, it is refused; sent twice (a double click), the same id reaches the collector,
  which keeps the first. No cookie, no address: nothing identifies the sender.
- A **honeypot** field, hidden from people (and from screen readers), that robots fill.
- A **per-site budget** of messages per hour, in memory: a flood on one site stops there.

A complaint (réclamation) becomes the collector's complaint, which opens a case with its
deadlines; a remark becomes a survey response with one free-text answer and its comment
(indicator 30's free expression), anonymous unless the person chose to leave an address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from boucle_console.adapters.api import JSON

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
ROLES = ("learner", "company", "funder")
KINDS = ("complaint", "remark")
SURVEY_ID = "avis-libre"  # the survey a remark is counted under (outside any plan)
SUBJECT_LENGTH = 120


def valid_id(value: str) -> bool:
    return bool(ID.match(value))


@dataclass(frozen=True, slots=True)
class FormToken:
    network_id: str
    site_id: str
    shown_at: float  # epoch seconds
    message_id: str


class FormTokens:
    """Signs and reads form tokens with the console's secret (HMAC-SHA256)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"public-form:" + secret.encode()).digest()

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, network_id: str, site_id: str, now: float) -> str:
        payload = f"{network_id}|{site_id}|{int(now)}|{uuid.uuid4().hex}"  # floor: never ahead
        return f"{payload}|{self._mac(payload)}"

    def contact_ref(self, email: str) -> str:
        """The keyed pseudonym of an address given with consent: the collector refuses an
        address as a reference, and the same address always gives the same pseudonym (the
        person's messages link together; an erasure asked with the address finds them)."""
        digest = hmac.new(self._key, b"contact:" + email.lower().encode(), hashlib.sha256)
        return f"pf-{digest.hexdigest()[:40]}"

    def read(self, token: str, network_id: str, site_id: str) -> FormToken | None:
        """The token if it is intact and for this site, else None."""
        payload, _, mac = token.rpartition("|")
        if not payload or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        parts = payload.split("|")
        if len(parts) != 4 or parts[0] != network_id or parts[1] != site_id:
            return None
        try:
            shown_at = float(parts[2])
        except ValueError:
            return None
        return FormToken(parts[0], parts[1], shown_at, parts[3])


@dataclass
class SiteBudget:
    """At most ``per_hour`` messages per site in any hour; only moments are kept, per site,
    and at most ``max_sites`` sites (the oldest forgotten): no memory grows without end."""

    per_hour: int
    max_sites: int = 5_000
    _sent: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def take(self, network_id: str, site_id: str, now: float) -> bool:
        key = (network_id, site_id)
        moments = self._sent.pop(key, deque())
        while moments and moments[0] <= now - 3600:
            moments.popleft()
        allowed = len(moments) < self.per_hour
        if allowed:
            moments.append(now)
        self._sent[key] = moments  # last used last: the first is the one to forget
        if len(self._sent) > self.max_sites:
            self._sent.pop(next(iter(self._sent)))
        return allowed


@dataclass(frozen=True, slots=True)
class Message:
    """What the form received, checked."""

    kind: str  # complaint or remark
    role: str  # learner, company or funder
    text: str
    subject: str
    email: str | None  # only with consent
    language: str


def read_message(form: dict[str, str], language: str) -> tuple[Message | None, list[str]]:
    """The message, or the names of the fields to correct."""
    errors: list[str] = []
    kind, role = form.get("kind", ""), form.get("role", "")
    text = form.get("message", "").strip()
    if kind not in KINDS:
        errors.append("kind")
    if role not in ROLES:
        errors.append("role")
    if not text:
        errors.append("message")
    consent = form.get("consent") == "on"
    email = form.get("email", "").strip() if consent else ""
    if email and not EMAIL.match(email):
        errors.append("email")
    if consent and not email:
        errors.append("email")  # consent to be recontacted, but no address to do it
    if errors:
        return None, errors
    subject = form.get("subject", "").strip()[:SUBJECT_LENGTH] or _first_words(text)
    return Message(kind, role, text[:20_000], subject, email or None, language), []


def _first_words(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1].rstrip() + "…"


def _moment(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat()


def complaint_body(message: Message, message_id: str, now: float, ref: str | None) -> JSON:
    """The collector's ``ComplaintReceived``; ``ref``: the pseudonym of the address given
    with consent (see :meth:`FormTokens.contact_ref`), never the address itself."""
    body: JSON = {
        "complaint_id": f"web-{message_id}",
        "received_at": _moment(now),
        "channel": "web_form",
        "complainant_role": message.role,
        "subject": message.subject,
        "description": message.text,
    }
    if ref:
        body["complainant_ref"] = ref
    return body


def remark_body(message: Message, message_id: str, now: float, ref: str | None) -> JSON:
    """The collector's ``SurveyResponseSubmitted``: one free-text answer, the same text as
    its comment (which the analyzer reads for themes), anonymous without consent."""
    response_id = f"web-{message_id}"
    body: JSON = {
        "response_id": response_id,
        "survey_id": SURVEY_ID,
        "survey_kind": "ad_hoc",
        "respondent_role": message.role,
        "submitted_at": _moment(now),
        "channel": "web_form",
        "language": message.language,
        "anonymous": ref is None,
        "answers": [
            {
                "question_id": "remarque",
                "type": "text",
                "question_label": "Votre remarque",
                "value": message.text,
            }
        ],
        "comments": [{"comment_id": f"{response_id}-1", "text": message.text}],
    }
    if ref:
        body["respondent_ref"] = ref
    return body
