"""From training facts to e-mails and back: planned, sent, reminded, answered, expired,
each e-mail once, even when the dispatcher restarts or the mail server refuses."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from boucle_contracts.training.v1 import (
    DropoutReason,
    DropoutRecorded,
    DropoutRecordedV1,
)
from boucle_surveys.dispatch import Dispatcher
from boucle_surveys.domain.ports import Contact
from boucle_surveys.domain.solicitation import Status
from boucle_surveys.intake import Intake
from boucle_surveys.metrics import SurveysMetrics
from boucle_surveys.relay import Relay
from tests.unit.surveys.fakes import (
    MemoryContacts,
    MemoryDeliveries,
    MemoryMailer,
    MemoryNames,
    MemoryPlans,
    MemoryRoster,
    MemorySink,
    MemorySolicitations,
)
from tests.unit.surveys.surveys_support import (
    NETWORK,
    NOW,
    SITE,
    enrolment_event,
    plan,
    response_event,
    rule,
    session_event,
    training,
)

pytestmark = pytest.mark.unit


class World:
    def __init__(self, *, anonymous: bool = False) -> None:
        self.now = NOW
        self.plans = MemoryPlans(
            plan(rule(anonymous=anonymous), effective_from=NOW - timedelta(days=90))
        )
        self.roster = MemoryRoster()
        self.store = MemorySolicitations()
        self.sink = MemorySink()
        self.metrics = SurveysMetrics(CollectorRegistry())
        self.relay = Relay(store=self.store, publisher=self.sink)
        self.contacts = MemoryContacts(
            {f"l{i}": Contact(address=f"l{i}@example.org") for i in range(3)}
        )
        self.deliveries = MemoryDeliveries()
        self.mailer = MemoryMailer()
        self.names = MemoryNames(
            {("programme", "prog-gp"): "Gestion de projet", ("site", SITE): "Lyon Part-Dieu"}
        )
        self.intake = Intake(
            plans=self.plans,
            roster=self.roster,
            solicitations=self.store,
            relay=self.relay,
            metrics=self.metrics,
        )
        self.dispatcher = self.new_dispatcher()

    def new_dispatcher(self) -> Dispatcher:
        """A fresh process: nothing in memory but what the stores hold."""
        return Dispatcher(
            store=self.store,
            plans=self.plans,
            contacts=self.contacts,
            deliveries=self.deliveries,
            mailer=self.mailer,
            names=self.names,
            relay=self.relay,
            metrics=self.metrics,
            opt_out_link=lambda n, p: f"https://boucle.example/desinscription/{n}/{p}",
            sender_domain="boucle.example",
            batch=100,
            clock=lambda: self.now,
        )

    async def session_of(self, learners: int) -> None:
        for i in range(learners):
            await self.intake.on_enrolment(enrolment_event(f"l{i}", NOW - timedelta(days=20)))
        await self.intake.on_session(session_event(learners, NOW))

    async def answer(self, respondent: str | None, response_id: str, at: datetime) -> None:
        await self.intake.on_response(response_event(respondent, response_id, at))

    def types(self) -> list[str]:
        return [e.type.split(".")[-2] for e in self.sink.events]


async def test_a_session_gives_one_mail_each_reminders_stop_on_answer_and_the_rest_expire() -> None:
    world = World()
    await world.session_of(3)
    assert world.types() == ["solicitation_planned"] * 3
    await world.dispatcher.tick()
    assert sorted(m.to for m in world.mailer.sent) == [f"l{i}@example.org" for i in range(3)]
    assert "Gestion de projet" in world.mailer.sent[0].body
    await world.answer("l0", "resp-0", NOW + timedelta(days=1))
    await world.answer("l0", "resp-0", NOW + timedelta(days=1))  # redelivered: nothing more
    world.now = NOW + timedelta(days=3, minutes=1)
    await world.dispatcher.tick()
    reminders = [m for m in world.mailer.sent if m.subject.startswith("Rappel")]
    assert sorted(m.to for m in reminders) == ["l1@example.org", "l2@example.org"]
    world.now = NOW + timedelta(days=7, minutes=1)
    await world.dispatcher.tick()
    world.now = NOW + timedelta(days=30)
    await world.dispatcher.tick()
    assert len(world.mailer.sent) == 3 + 2 + 2
    assert len({m.message_id for m in world.mailer.sent}) == 7
    assert [s.status for s in world.store.items.values()].count(Status.ANSWERED) == 1
    assert world.types().count("solicitation_answered") == 1
    assert world.types().count("solicitation_expired") == 2
    assert not world.store.pending


async def test_a_restart_after_claiming_never_sends_twice_and_a_refusal_is_retried() -> None:
    world = World()
    await world.session_of(2)
    world.mailer.refuse = True
    await world.dispatcher.tick()
    assert world.mailer.sent == []
    assert world.deliveries.claims == {}  # refused: claims given back
    world.mailer.refuse = False
    # A crash after claiming l0's invitation but before recording it:
    first = sorted(world.store.items.values(), key=lambda s: s.respondent_ref)[0]
    await world.deliveries.claim(f"{first.solicitation_id}:send", NOW)
    restarted = world.new_dispatcher()
    await restarted.tick()
    await restarted.tick()
    assert [m.to for m in world.mailer.sent] == ["l1@example.org"]
    assert all(s.status is Status.SENT for s in world.store.items.values())


async def test_opted_out_and_unreachable_people_get_nothing_and_are_not_counted_as_asked() -> None:
    world = World()
    await world.contacts.opt_out(NETWORK, "l1")
    await world.contacts.erase(NETWORK, "l2")
    await world.session_of(3)
    await world.dispatcher.tick()
    assert [m.to for m in world.mailer.sent] == ["l0@example.org"]
    reasons = sorted(str(s.closing_reason) for s in world.store.with_status(Status.CLOSED))
    assert reasons == ["opted_out", "unreachable"]


async def test_an_anonymous_answer_closes_one_of_its_sessions_solicitations() -> None:
    world = World(anonymous=True)
    await world.session_of(3)
    await world.dispatcher.tick()
    assert all("respondent=" not in m.body for m in world.mailer.sent)
    await world.answer(None, "anon-1", NOW + timedelta(hours=2))
    await world.answer(None, "anon-2", NOW + timedelta(hours=3))
    await world.answer(None, "anon-2", NOW + timedelta(hours=3))
    assert len(world.store.with_status(Status.ANSWERED)) == 2


async def test_a_dropout_before_the_end_is_not_asked_at_the_end_of_the_session() -> None:
    world = World()
    await world.session_of(0)
    for i in range(2):
        await world.intake.on_enrolment(
            enrolment_event(
                f"l{i}", NOW - timedelta(days=20), session_id="sess-2", enrolment_id=f"enr-x{i}"
            )
        )
    await world.intake.on_dropout(
        DropoutRecordedV1.create(
            data=DropoutRecorded(
                enrolment_id="enr-x1",
                learner_ref="l1",
                dropped_at=NOW - timedelta(days=3),
                reason=DropoutReason.PERSONAL,
                training=training("sess-2"),
            ),
            network_id=NETWORK,
            site_id=SITE,
            source="/test",
        )
    )
    await world.intake.on_session(session_event(2, NOW, session_id="sess-2", completed=1))
    assert [s.respondent_ref for s in world.store.items.values()] == ["l0"]
