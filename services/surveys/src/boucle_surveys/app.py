"""Composition root of the surveys service: wiring only, nothing connects at import."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_contracts.solicitations.v1 import EVENTS as SOLICITATION_EVENTS
from boucle_runtime.auth import TokenVerifier, install_access_errors, principal_dependency
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.mongo import mongo_client, mongo_ping
from boucle_runtime.periodic import every
from boucle_runtime.service import service_app
from boucle_surveys import __version__
from boucle_surveys.adapters.contacts import EncryptedContacts
from boucle_surveys.adapters.mongo import (
    MongoDeliveries,
    MongoNames,
    MongoPlans,
    MongoRoster,
    MongoSolicitations,
)
from boucle_surveys.adapters.smtp import SmtpMailer
from boucle_surveys.api.contacts import contact_router
from boucle_surveys.api.opt_out import opt_out_router
from boucle_surveys.api.plans import plan_router
from boucle_surveys.dispatch import Dispatcher
from boucle_surveys.erasure import Erasure
from boucle_surveys.handlers import subscribe
from boucle_surveys.intake import Intake
from boucle_surveys.metrics import SurveysMetrics
from boucle_surveys.opt_out import OptOutLinks
from boucle_surveys.relay import Relay
from boucle_surveys.settings import SurveysSettings

SERVICE = "surveys"
TOPIC_NAMES = {
    "boucle.training.v1",
    "boucle.feedback.v1",
    "boucle.referential.v1",
    "boucle.privacy.v1",
    "boucle.solicitations.v1",
}


def create_app(settings: SurveysSettings) -> FastAPI:
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = SurveysMetrics(registry)
    broker = make_broker(settings, service=SERVICE, registry=registry)
    client = mongo_client(settings, app_name=f"boucle-{SERVICE}")
    db = settings.mongodb_database
    plans, roster = MongoPlans(client, db), MongoRoster(client, db)
    solicitations, names = MongoSolicitations(client, db), MongoNames(client, db)
    contacts = EncryptedContacts(client, db, _secret(settings.contacts_key))
    publisher = EventPublisher(broker, settings, SOLICITATION_EVENTS)
    relay = Relay(store=solicitations, publisher=publisher)
    intake = Intake(
        plans=plans, roster=roster, solicitations=solicitations, relay=relay, metrics=metrics
    )
    links = OptOutLinks(
        public_url=settings.public_url,
        secret=_secret(settings.opt_out_secret).encode(),
    )
    dispatcher = Dispatcher(
        store=solicitations,
        plans=plans,
        contacts=contacts,
        deliveries=MongoDeliveries(client, db),
        mailer=SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        ),
        names=names,
        relay=relay,
        metrics=metrics,
        opt_out_link=links.link,
        sender_domain=settings.sender_domain,
        batch=settings.mails_per_tick,
    )
    consumers = Consumers(broker, settings, group=settings.consumer_group, registry=registry)
    subscribe(consumers, intake, names, Erasure(contacts=contacts, solicitations=solicitations))
    consumers.attach()
    current = principal_dependency(TokenVerifier(settings))

    async def require_secrets() -> None:
        if missing := settings.missing_secrets():
            raise RuntimeError(f"set {', '.join(missing)} (from a secret store) to start")

    async def yearly() -> None:
        await intake.plan_yearly(datetime.now(UTC))

    async def close_client() -> None:
        await client.close()

    app = service_app(
        name="Boucle surveys",
        version=__version__,
        description=(
            "The collection plan (indicator 30): who is asked what and when; invitations "
            "and reminders by e-mail; response rates as answered ÷ asked. Every /v1 route "
            "needs a bearer JWT; the opt-out pages are public and signed."
        ),
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name in TOPIC_NAMES],
        extra_topics=[dead_letter_topic(settings.consumer_group)],
        checks={"mongodb": mongo_ping(client)},
        routers=[
            plan_router(plans=plans, publisher=publisher, principal=current),
            contact_router(contacts=contacts, solicitations=solicitations, principal=current),
            opt_out_router(contacts=contacts, links=links),
        ],
        on_startup=[require_secrets, roster.create_indexes, solicitations.create_indexes],
        on_shutdown=[close_client],
        background=[
            every(settings.dispatch_interval_seconds, dispatcher.tick, name="dispatch"),
            every(settings.yearly_interval_seconds, yearly, name="yearly", at_start=True),
        ],
    )
    install_access_errors(app)
    return app


def _secret(value: SecretStr | None) -> str:
    """The secret's value; empty when missing (start-up refuses it before any use)."""
    return value.get_secret_value() if value else ""
