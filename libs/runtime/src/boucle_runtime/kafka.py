"""Kafka plumbing: the broker, the topic layout, and publishing events in structured mode."""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Iterable
from typing import Protocol

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.publisher.usecase import DefaultPublisher
from prometheus_client import CollectorRegistry

from boucle_contracts.kafka import headers_for
from boucle_contracts.registry import AnyEvent, TopicSpec
from boucle_runtime.kafka_security import broker_security, client_options
from boucle_runtime.logging import get_logger
from boucle_runtime.settings import ServiceSettings

log = get_logger(__name__)


def make_broker(
    settings: ServiceSettings, *, service: str, registry: CollectorRegistry
) -> KafkaBroker:
    """A broker whose producer never acknowledges before every in-sync replica has the event.

    Its producer and consumers connect as the settings say (TLS, SCRAM user: see
    ``kafka_security``); the lag monitor and dead-letter publishers reuse them.
    """
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=broker_security(settings),
        client_id=f"boucle-{service}",
        acks="all",
        enable_idempotence=True,
        graceful_timeout=settings.graceful_timeout_seconds,
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=f"boucle-{service}")],
        logger=get_logger(f"boucle.{service}.faststream"),
    )


async def ensure_topics(
    settings: ServiceSettings, specs: Iterable[TopicSpec], *, extra: Iterable[str] = ()
) -> None:
    """Create the topics a service uses if they are missing; existing ones are left alone."""
    wanted = [
        NewTopic(
            name=settings.topic(spec.name),
            num_partitions=settings.topic_partitions or spec.partitions,
            replication_factor=settings.topic_replication_factor,
            topic_configs={"cleanup.policy": "compact"} if spec.compacted else {},
        )
        for spec in specs
    ]
    wanted += [
        NewTopic(
            name=settings.topic(name),
            num_partitions=1,
            replication_factor=settings.topic_replication_factor,
        )
        for name in extra
    ]
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            # Another instance may create one between our listing and our request.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("topics_created", topics=[topic.name for topic in missing])
    finally:
        await admin.close()


class EventSink(Protocol):
    """Anything that durably publishes contract events (Kafka here, a list in unit tests)."""

    async def publish(self, event: AnyEvent) -> None: ...


class EventPublisher:
    """Publishes contract events on their topic, keyed by site, with CloudEvents headers.

    One FastStream publisher per topic, so each appears in the service's AsyncAPI document.
    """

    def __init__(
        self, broker: KafkaBroker, settings: ServiceSettings, events: Iterable[type[AnyEvent]]
    ) -> None:
        by_topic: dict[str, list[type[AnyEvent]]] = {}
        for event in events:
            by_topic.setdefault(event.TOPIC, []).append(event)
        self._publishers: dict[str, DefaultPublisher] = {
            topic: broker.publisher(
                settings.topic(topic),
                title=topic,
                schema=functools.reduce(operator.or_, classes),  # every event type of the topic
            )
            for topic, classes in by_topic.items()
        }

    async def publish(self, event: AnyEvent) -> None:
        """Returns once the broker has acknowledged the write (acks=all).

        FastStream writes a ``correlation_id`` header on every message (a random one unless
        told) and the AsyncAPI documents declare it as the message's correlation id: it
        carries the event's CloudEvents ``correlationid`` (its id when it has none), so the
        header and the document agree with the event.
        """
        publisher = self._publishers[event.TOPIC]
        await publisher.publish(
            event.to_json_bytes(),
            key=event.partition_key,
            headers=headers_for(event),
            correlation_id=correlation_of(event),
        )


def correlation_of(event: AnyEvent) -> str:
    """The ``correlation_id`` header of ``event``: its CloudEvents ``correlationid``."""
    return event.correlation_id or event.id
