"""The surveys service on the real broker, database and SMTP server (Mailpit): a collection
plan published, a session's learners asked by e-mail, an answer closing its solicitation,
reminders and expiry, and exactly one e-mail per solicitation and step across restarts.

Mailpit's inbox is shared by everyone's tests: each test's addresses carry its isolation
token, and its messages are found by it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.fernet import Fernet
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from boucle_contracts import kafka as wire
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import AnyEvent, decode_event
from boucle_contracts.solicitations.v1 import TOPIC as SOLICITATIONS_TOPIC
from boucle_contracts.solicitations.v1 import CollectionRule
from boucle_contracts.training.v1 import EnrolmentRecordedV1, SessionCompletedV1
from boucle_surveys.adapters.contacts import EncryptedContacts
from boucle_surveys.adapters.mongo import (
    MongoDeliveries,
    MongoNames,
    MongoPlans,
    MongoRoster,
    MongoSolicitations,
)
from boucle_surveys.adapters.smtp import SmtpMailer
from boucle_surveys.app import create_app
from boucle_surveys.dispatch import Dispatcher
from boucle_surveys.domain.plan import next_version
from boucle_surveys.domain.ports import Contact
from boucle_surveys.intake import Intake
from boucle_surveys.metrics import SurveysMetrics
from boucle_surveys.relay import Relay
from boucle_surveys.settings import SurveysSettings
from tests.unit.surveys.fakes import MemorySink
from tests.unit.surveys.surveys_support import enrolment_event, response_event, session_event
from tools.localstack import LocalIssuer

pytestmark = pytest.mark.integration
T = TypeVar("T")
NET = "net-sondages"
ISSUER = LocalIssuer()
RULE: dict[str, Any] = {
    "rule_id": "chaud-stagiaires",
    "label": "Enquête à chaud des stagiaires",
    "stakeholder": "learner",
    "survey_kind": "hot",
    "trigger": "session_end",
    "survey_id": "form-chaud",
    "platform": "tally",
    "form_url": "https://tally.so/r/abc123",
    "reminder_days": [3, 7],
    "expires_after_days": 21,
}
RULE_MODEL = CollectionRule.model_validate(RULE)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    api: str


@pytest.fixture(scope="module")
def smtp() -> Smtp:
    api, port = os.environ.get("MAILPIT_API_URL"), os.environ.get("SMTP_PORT")
    if not api or not port:
        pytest.fail(
            "No SMTP server: run `deploy/local/services.sh start mail` and "
            '`eval "$(deploy/local/services.sh env)"` (or `make test`).'
        )
    return Smtp(os.environ.get("SMTP_HOST", "127.0.0.1"), int(port), api.rstrip("/"))


def address(isolation: str, learner: str) -> str:
    return f"{isolation}-{learner}@stagiaires.example"


async def inbox(smtp: Smtp, isolation: str) -> list[dict[str, Any]]:
    """This test's messages (full: Message-ID included), oldest first."""
    async with httpx.AsyncClient(base_url=f"{smtp.api}/api/v1", timeout=10) as api:
        found = (await api.get("/search", params={"query": isolation, "limit": 200})).json()
        mine = [m for m in found["messages"] if any(isolation in to["Address"] for to in m["To"])]
        return [(await api.get(f"/message/{m['ID']}")).json() for m in reversed(mine)]


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, seconds: float = 40) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := await probe():
            return result
        await asyncio.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")


def enrolment(learner: str, at: datetime) -> EnrolmentRecordedV1:
    return enrolment_event(learner, at, network=NET)


def session_end(learners: int, at: datetime) -> SessionCompletedV1:
    return session_event(learners, at, network=NET)


def response(learner: str, at: datetime) -> SurveyResponseSubmittedV1:
    return response_event(learner, f"tally:{learner}", at, network=NET)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest.fixture
async def database(mongodb_uri: str, isolation: str) -> AsyncIterator[str]:
    name = f"boucle_surveys_{isolation}"
    yield name
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    await client.drop_database(name)
    await client.close()


async def send(producer: AIOKafkaProducer, settings: SurveysSettings, event: AnyEvent) -> None:
    await producer.send_and_wait(
        settings.topic(event.TOPIC),
        event.to_json_bytes(),
        key=event.partition_key,
        headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
    )


async def solicitation_events(settings: SurveysSettings, bootstrap: str) -> list[AnyEvent]:
    consumer = AIOKafkaConsumer(
        settings.topic(SOLICITATIONS_TOPIC),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=2000)
        return [decode_event(m.value or b"") for ms in batch.values() for m in ms]
    finally:
        await consumer.stop()


async def test_a_session_is_asked_by_mail_once_and_an_answer_closes_it_across_a_restart(
    kafka_bootstrap: str,
    mongodb_uri: str,
    isolation: str,
    database: str,
    producer: AIOKafkaProducer,
    smtp: Smtp,
) -> None:
    settings = SurveysSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"{isolation}.",
        topic_partitions=2,
        mongodb_uri=mongodb_uri,
        mongodb_database=database,
        auth_issuer=ISSUER.issuer,
        auth_audience=ISSUER.audience,
        auth_public_key=ISSUER.public_pem,
        contacts_key=Fernet.generate_key().decode(),
        opt_out_secret="un-secret-de-test-assez-long",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        dispatch_interval_seconds=0.3,
        graceful_timeout_seconds=10,
    )
    now = datetime.now(UTC)
    token = ISSUER.token(network_id=NET, role="quality_lead", subject="usr-qualite")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://surveys",
            headers={"authorization": f"Bearer {token}"},
        ) as http:
            plan = {"effective_from": (now - timedelta(days=30)).isoformat(), "rules": [RULE]}
            assert (
                await http.post(f"/v1/networks/{NET}/collection-plan", json=plan)
            ).status_code == 201
            contacts = {
                "contacts": [
                    {"person_ref": f"l{i}", "address": address(isolation, f"l{i}")}
                    for i in range(3)
                ]
            }
            stored = await http.put(f"/v1/networks/{NET}/contacts", json=contacts)
            assert stored.json() == {"stored": 3}
            bad = await http.put(
                f"/v1/networks/{NET}/contacts",
                json={"contacts": [{"person_ref": "l9", "address": "pas-une-adresse"}]},
            )
            assert bad.status_code == 422
        for i in range(3):
            await send(producer, settings, enrolment(f"l{i}", now - timedelta(days=10)))
        await send(producer, settings, session_end(3, now - timedelta(hours=1)))
        mails = await eventually(
            lambda: _at_least(inbox(smtp, isolation), 3), "three invitations", 60
        )
        await send(producer, settings, response("l0", now))

        async def answered() -> list[AnyEvent] | None:
            found = await solicitation_events(settings, kafka_bootstrap)
            done = [e for e in found if e.type.endswith("solicitation_answered.v1")]
            return done or None

        await eventually(answered, "the answer closing l0's solicitation")
    # A restart: everything is read back from the database; nothing is sent again.
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(2.0)  # several dispatch ticks
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://surveys",
            headers={"authorization": f"Bearer {token}"},
        ) as http:
            rates = (await http.get(f"/v1/networks/{NET}/response-rates")).json()
    assert rates == [
        {"group": {"survey_kind": "hot"}, "solicited": 3, "answered": 1, "rate": 1 / 3}
    ]
    mails = await inbox(smtp, isolation)
    assert sorted(m["To"][0]["Address"] for m in mails) == [
        address(isolation, f"l{i}") for i in range(3)
    ]
    assert len({m["MessageID"] for m in mails}) == 3
    body = mails[0]["Text"]
    assert "Enquête à chaud des stagiaires" in mails[0]["Subject"]
    assert "https://tally.so/r/abc123?site=site-lyon&session=sess-1" in body
    assert "/desinscription/" in body
    events = await solicitation_events(settings, kafka_bootstrap)
    kinds = sorted({(e.type.split(".")[-2], e.id) for e in events})
    assert [k for k, _ in kinds].count("solicitation_sent") == 3
    assert [k for k, _ in kinds].count("collection_plan_published") == 1
    # Events name pseudonyms only: the addresses never reach a topic.
    assert not any(isolation in e.model_dump_json() for e in events)


async def _at_least(
    found: Awaitable[list[dict[str, Any]]], count: int
) -> list[dict[str, Any]] | None:
    mails = await found
    return mails if len(mails) >= count else None


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def test_reminders_and_expiry_each_once_even_when_the_dispatcher_restarts(
    mongodb_uri: str, isolation: str, database: str, smtp: Smtp
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
    clock = Clock(t0)
    plans, roster = MongoPlans(client, database), MongoRoster(client, database)
    store = MongoSolicitations(client, database)
    contacts = EncryptedContacts(client, database, Fernet.generate_key().decode())
    sink = MemorySink()
    relay = Relay(store=store, publisher=sink)
    metrics = SurveysMetrics(CollectorRegistry())
    await store.create_indexes()
    await plans.add(
        next_version(
            [],
            network_id=NET,
            effective_from=t0 - timedelta(days=1),
            rules=[RULE_MODEL],
            published_by="q",
            published_at=t0,
        )
    )
    for i in range(2):
        await contacts.put(NET, f"l{i}", Contact(address(isolation, f"l{i}")))
    intake = Intake(plans=plans, roster=roster, solicitations=store, relay=relay, metrics=metrics)
    for i in range(2):
        await intake.on_enrolment(enrolment(f"l{i}", t0 - timedelta(days=10)))
    await intake.on_session(session_end(2, t0))
    await intake.on_session(session_end(2, t0))  # redelivered

    def dispatcher() -> Dispatcher:
        return Dispatcher(
            store=store,
            plans=plans,
            contacts=contacts,
            deliveries=MongoDeliveries(client, database),
            mailer=SmtpMailer(host=smtp.host, port=smtp.port, sender="qualite@boucle.example"),
            names=MongoNames(client, database),
            relay=relay,
            metrics=metrics,
            opt_out_link=lambda n, p: f"https://boucle.example/desinscription/{n}/{p}",
            sender_domain="boucle.example",
            batch=50,
            clock=clock,
        )

    try:
        for moment in (t0, t0 + timedelta(days=3, hours=1), t0 + timedelta(days=7, hours=1)):
            clock.now = moment
            await dispatcher().tick()
            await dispatcher().tick()  # a restart at the same moment: nothing more
        await intake.on_response(response("l0", t0 + timedelta(days=8)))
        clock.now = t0 + timedelta(days=21)
        await dispatcher().tick()
        mails = await eventually(lambda: _at_least(inbox(smtp, isolation), 6), "six e-mails", 20)
        await asyncio.sleep(1.0)  # anything extra would have arrived by now
        mails = await inbox(smtp, isolation)
        per_person = sorted((m["To"][0]["Address"], m["Subject"][:7]) for m in mails)
        assert per_person == sorted(
            [
                (address(isolation, f"l{i}"), s)
                for i in range(2)
                for s in ("Votre a", "Rappel ", "Rappel ")
            ]
        )
        assert len({m["MessageID"] for m in mails}) == 6
        kinds = [e.type.split(".")[-2] for e in sink.events]
        assert kinds.count("solicitation_planned") == 2
        assert kinds.count("solicitation_sent") == 2
        assert kinds.count("solicitation_reminded") == 4
        assert kinds.count("solicitation_answered") == 1
        assert kinds.count("solicitation_expired") == 1
        stored = await client[database]["contacts"].find_one({"_id": f"{NET}:l0"})
        assert stored is not None
        assert isolation.encode() not in bytes(stored["address"])  # encrypted at rest
    finally:
        await client.close()
