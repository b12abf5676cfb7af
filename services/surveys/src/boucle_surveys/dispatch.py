"""Sending, reminding and expiring: the periodic work of the surveys service.

Each tick takes the solicitations whose next step is due, a bounded number at a time (the
rate limit), and does one step each. A message is sent at most once: its delivery is
claimed before sending and the claim outlives a crash; a refused sending gives the claim
back so the next tick tries again. Opted-out or unreachable people are not written to;
their solicitation closes and does not count as asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from boucle_contracts.solicitations.v1 import ClosingReason, CollectionRule
from boucle_runtime.logging import get_logger
from boucle_surveys import events
from boucle_surveys.domain.links import personal_link
from boucle_surveys.domain.mail import Mail, Names, compose
from boucle_surveys.domain.ports import (
    Contact,
    ContactBook,
    Deliveries,
    Mailer,
    PlanStore,
    SolicitationStore,
)
from boucle_surveys.domain.ports import Names as NameBook
from boucle_surveys.domain.solicitation import Solicitation, Step, StepKind
from boucle_surveys.metrics import SurveysMetrics
from boucle_surveys.relay import Relay

log = get_logger(__name__)


class MailError(Exception):
    """The mail server refused or could not be reached: nothing left."""


class Dispatcher:
    def __init__(
        self,
        *,
        store: SolicitationStore,
        plans: PlanStore,
        contacts: ContactBook,
        deliveries: Deliveries,
        mailer: Mailer,
        names: NameBook,
        relay: Relay,
        metrics: SurveysMetrics,
        opt_out_link: Callable[[str, str], str],
        sender_domain: str,
        batch: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._plans = plans
        self._contacts = contacts
        self._deliveries = deliveries
        self._mailer = mailer
        self._names = names
        self._relay = relay
        self._metrics = metrics
        self._opt_out_link = opt_out_link
        self._sender_domain = sender_domain
        self._batch = batch
        self._clock = clock

    async def tick(self) -> bool:
        """One round; True when the batch was full (more may be due: go on at once)."""
        await self._relay.flush()
        now = self._clock()
        taken = 0
        for solicitation in await self._store.due(now, self._batch):
            step = solicitation.next_step(now)
            if step is None:
                await self._store.save(solicitation)  # stale next_at: refreshed
                continue
            await self._take(solicitation, step, now)
            taken += 1
        await self._relay.flush()
        return taken >= self._batch

    async def _take(self, solicitation: Solicitation, step: Step, now: datetime) -> None:
        if step.kind is StepKind.EXPIRE:
            await self._close(solicitation, ClosingReason.NO_ANSWER, now)
            return
        contact = await self._contacts.address_of(
            solicitation.network_id, solicitation.respondent_ref
        )
        if contact is None:
            await self._close(solicitation, ClosingReason.UNREACHABLE, now)
            return
        if contact.opted_out:
            await self._close(solicitation, ClosingReason.OPTED_OUT, now)
            return
        label = "send" if step.kind is StepKind.SEND else f"remind-{step.reminder}"
        key = f"{solicitation.solicitation_id}:{label}"
        if await self._deliveries.claim(key, now):
            try:
                await self._mailer.send(await self._mail(solicitation, label, contact))
            except MailError:
                await self._deliveries.release(key)
                self._metrics.mails.labels(step.kind.value, "failed").inc()
                log.warning("mail_failed", solicitation_id=solicitation.solicitation_id)
                return
            self._metrics.mails.labels(step.kind.value, "sent").inc()
        else:
            # Claimed in an earlier life that did not record the outcome: it may have
            # left, so it is never sent again.
            self._metrics.mails.labels(step.kind.value, "skipped_claimed").inc()
        if step.kind is StepKind.SEND:
            done = solicitation.sent(now)
            event = events.sent(done, now)
        else:
            done = solicitation.reminded(step.reminder)
            event = events.reminded(done, step.reminder, now)
        await self._store.save(done, [events.encoded(event)])

    async def _close(
        self, solicitation: Solicitation, reason: ClosingReason, now: datetime
    ) -> None:
        closed = solicitation.closed(reason, now)
        await self._store.save(closed, [events.encoded(events.expired(closed, now))])
        self._metrics.closed.labels(reason.value).inc()

    async def _mail(self, solicitation: Solicitation, label: str, contact: Contact) -> Mail:
        rule = await self._rule(solicitation)
        if rule is None:
            raise MailError(f"rule {solicitation.rule_id} not found")
        return compose(
            solicitation,
            step=label,
            to=contact.address,
            link=personal_link(rule.form_url, rule.platform, solicitation),
            opt_out_link=self._opt_out_link(solicitation.network_id, solicitation.respondent_ref),
            names=await self._names_of(solicitation, rule),
            language=contact.language,
            sender_domain=self._sender_domain,
        )

    async def _rule(self, solicitation: Solicitation) -> CollectionRule | None:
        for plan in await self._plans.versions(solicitation.network_id):
            if plan.version == solicitation.plan_version:
                return next((r for r in plan.rules if r.rule_id == solicitation.rule_id), None)
        return None

    async def _names_of(self, solicitation: Solicitation, rule: CollectionRule) -> Names:
        network = solicitation.network_id
        programme = solicitation.training.programme_id
        site = solicitation.site_id
        return Names(
            survey=rule.label,
            programme=programme and await self._names.name_of(network, "programme", programme),
            site=site and await self._names.name_of(network, "site", site),
        )
