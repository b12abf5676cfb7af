"""The invitation and reminder e-mails, French first, from the service's catalogue.

The message says what the survey is about with names (programme, session), never codes;
an anonymous survey's message says the link does not identify anyone, and its reminder
goes to everyone asked, so it thanks those who already answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.dates import format_date

from boucle_runtime.i18n import LOCALES, Catalogues
from boucle_surveys.domain.solicitation import Solicitation

CATALOGUES = Catalogues(Path(__file__).resolve().parent.parent / "locale", "boucle_surveys")


@dataclass(frozen=True, slots=True)
class Mail:
    """One e-mail to send; ``message_id`` is stable per solicitation and step, so a mail
    server or client that sees it twice knows it is the same message."""

    message_id: str
    to: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Names:
    """What the message calls the survey and the training: names, not ids."""

    survey: str
    programme: str | None = None
    site: str | None = None


def context(solicitation: Solicitation, names: Names, language: str) -> str:
    tr = CATALOGUES.translate
    if names.programme and names.site:
        return tr(language, "context.session", programme=names.programme, site=names.site)
    if names.programme:
        return tr(language, "context.programme", programme=names.programme)
    return tr(language, "context.year", year=solicitation.due_at.year)


def compose(
    solicitation: Solicitation,
    *,
    step: str,
    to: str,
    link: str,
    opt_out_link: str,
    names: Names,
    language: str,
    sender_domain: str,
) -> Mail:
    """``step`` is ``send`` or ``remind-<n>``."""
    lang = CATALOGUES.language(language)
    tr = CATALOGUES.translate
    reminder = step != "send"
    lines = [
        tr(lang, "email.greeting"),
        "",
        tr(
            lang,
            "email.reminder.body" if reminder else "email.invitation.body",
            context=context(solicitation, names, lang),
            expires=_day(solicitation.expires_at, lang),
        ),
        link,
        "",
    ]
    if solicitation.anonymous:
        lines += [tr(lang, "email.anonymous"), ""]
    lines += [
        tr(lang, "email.why"),
        "",
        tr(lang, "email.signature"),
        "",
        tr(lang, "email.opt_out", link=opt_out_link),
    ]
    subject_key = "email.reminder.subject" if reminder else "email.invitation.subject"
    return Mail(
        message_id=f"<{solicitation.solicitation_id}.{step}@{sender_domain}>",
        to=to,
        subject=tr(lang, subject_key, survey=names.survey),
        body="\n".join(lines) + "\n",
    )


def _day(moment: datetime, language: str) -> str:
    return format_date(moment, "long", locale=LOCALES[language])
