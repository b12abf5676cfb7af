"""The reminders' e-mails, in French: what is waiting, by when, where to act, how to stop."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from babel.dates import format_datetime as babel_datetime
from babel.dates import get_timezone

from boucle_console.locale import BABEL_LOCALES, TIMEZONE, duration, translator
from boucle_console.notify.reminders import Reminder


def t(key: str, **values: object) -> str:
    """The reminders go out in French (the catalogue is read once, when first used)."""
    return translator("fr")(key, **values)


def _when(moment: datetime) -> str:
    return babel_datetime(
        moment, t("mail.when"), tzinfo=get_timezone(TIMEZONE), locale=BABEL_LOCALES["fr"]
    )


def _deadline_line(reminder: Reminder, now: datetime) -> str:
    if reminder.due_at is None:
        since = reminder.since or now
        return t("mail.proposed", when=_when(since), delta=duration(now - since, "fr"))
    left = reminder.due_at - now
    values = {"when": _when(reminder.due_at), "delta": duration(left, "fr")}
    return t("mail.late" if left.total_seconds() <= 0 else "mail.due", **values)


def compose(
    reminder: Reminder,
    address: str,
    *,
    sender: str,
    now: datetime,
    page_url: str | None,
    unsubscribe_url: str | None,
) -> EmailMessage:
    site = t("mail.site", site=reminder.site_id) if reminder.site_id else t("mail.network")
    due = _when(reminder.due_at) if reminder.due_at else ""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(("", address))
    message["Subject"] = t(f"mail.subject.{reminder.kind.value}", due=due, site=site)
    message["Date"] = format_datetime(now)
    # The same reminder to the same address always has the same id: a mail system that
    # sees it twice (a retry after a crash) may drop the copy.
    digest = hashlib.sha256(f"{reminder.key}|{address.lower()}".encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@boucle-console>"
    message["Auto-Submitted"] = "auto-generated"
    lines = [
        t("mail.hello"),
        "",
        t(f"mail.lead.{reminder.kind.value}"),
        "",
        f"  « {reminder.title} » ({site})",
        f"  {_deadline_line(reminder, now)}",
        "",
    ]
    if page_url:
        lines += [t("mail.open"), f"  {page_url}", ""]
    lines += [t("mail.once"), ""]
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        lines += [
            t("mail.unsubscribe"),
            f"  {unsubscribe_url}",
        ]
    lines += ["", t("mail.signature")]
    message.set_content("\n".join(lines))
    return message
