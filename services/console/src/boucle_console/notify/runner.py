"""The notifier: every few minutes, read the cases and plans with the notifier's token,
e-mail the reminders due that were not sent yet, remember them.

The token is read from a file at every round (so that whatever renews it, a sidecar or a
cron with the provider's client-credentials grant, just rewrites the file); it must be a
network-wide reading role (quality lead) of one network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from boucle_console.adapters.api import ActionsApi, utc_now
from boucle_console.metrics import ConsoleMetrics
from boucle_console.notify import links
from boucle_console.notify.mailer import Mailer, SmtpMailer
from boucle_console.notify.messages import compose
from boucle_console.notify.reminders import Ahead, Recipients, due_reminders
from boucle_console.notify.state import NotifyState
from boucle_console.settings import ConsoleSettings
from boucle_runtime.auth import TokenVerifier
from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)


@dataclass
class Notifier:
    actions: ActionsApi
    verifier: TokenVerifier
    token: Callable[[], str]
    recipients: Recipients
    state: NotifyState
    mailer: Mailer
    metrics: ConsoleMetrics
    sender: str
    secret: str  # signs the unsubscribe links
    public_url: str | None = None
    warning: Ahead = field(default_factory=Ahead)
    clock: Callable[[], datetime] = utc_now

    async def run_once(self) -> int:
        """One round; the number of e-mails sent."""
        access = self.token()
        principal = await self.verifier.verify(access)
        network = principal.network_id
        now = self.clock()
        cases = await self.actions.cases(access, network)
        plans = await self.actions.actions(access, network)
        sent = 0
        for reminder in due_reminders(cases, plans, now, self.warning):
            for address in self.recipients.of(reminder):
                if await self.state.unsubscribed(address, reminder.kind.value):
                    continue
                if await self.state.sent(reminder.key, address):
                    continue
                base = self.public_url.rstrip("/") if self.public_url else None
                message = compose(
                    reminder,
                    address,
                    sender=self.sender,
                    now=now,
                    page_url=f"{base}{reminder.path}" if base else None,
                    unsubscribe_url=links.unsubscribe_url(
                        base, self.secret, address, reminder.kind.value
                    )
                    if base
                    else None,
                )
                try:
                    await self.mailer.send(message)
                except OSError as exc:  # the SMTP server: tried again at the next round
                    self.metrics.emails.labels(reminder.kind.value, "failed").inc()
                    log.warning(
                        "notification_failed", kind=reminder.kind.value, error=type(exc).__name__
                    )
                    continue
                await self.state.mark_sent(reminder.key, address, now)
                self.metrics.emails.labels(reminder.kind.value, "sent").inc()
                sent += 1
        if sent:
            log.info("notifications_sent", count=sent)
        return sent

    async def _step(self) -> None:
        await self.run_once()

    def loop(self, interval_seconds: float) -> BackgroundLoop:
        return every(interval_seconds, self._step, name="notifications", at_start=True)


def token_file(path: Path) -> Callable[[], str]:
    def read() -> str:
        return path.read_text(encoding="utf-8").strip()

    return read


def build_notifier(
    settings: ConsoleSettings,
    *,
    actions: ActionsApi,
    verifier: TokenVerifier,
    state: NotifyState,
    metrics: ConsoleMetrics,
    secret: str,
    mailer: Mailer | None = None,
) -> Notifier | None:
    """The notifier the settings ask for, or None (off, or not configured: said in the log)."""
    if not settings.notify_enabled:
        return None
    if settings.notify_token_file is None or settings.notify_recipients_file is None:
        log.warning("notifications_off", reason="notify_token_file or notify_recipients_file unset")
        return None
    recipients = Recipients.from_json(
        json.loads(settings.notify_recipients_file.read_text(encoding="utf-8"))
    )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Notifier(
        actions=actions,
        verifier=verifier,
        token=token_file(settings.notify_token_file),
        recipients=recipients,
        state=state,
        mailer=mailer
        or SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            password,
            settings.smtp_starttls,
        ),
        metrics=metrics,
        sender=settings.smtp_from,
        secret=secret,
        public_url=settings.public_url,
        warning=Ahead(
            acknowledge=timedelta(hours=settings.notify_acknowledge_warning_hours),
            answer=timedelta(hours=settings.notify_answer_warning_hours),
            measures=timedelta(days=settings.notify_measures_warning_days),
        ),
    )
