"""Subscribers the Boucle way: named group, at-least-once acks, dead letters, typed events."""

from __future__ import annotations

from collections.abc import Iterable

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from prometheus_client import CollectorRegistry

from boucle_contracts.registry import AnyEvent, dead_letter_topic
from boucle_runtime.backends import monitor_of
from boucle_runtime.deadletter import (
    DeadLetterSink,
    RetryPolicy,
    dead_letter_middleware,
    null_tolerant_parser,
    stashed_event_decoder,
)
from boucle_runtime.settings import ServiceSettings


class Consumers:
    """The subscribers of one consumer group, sharing its dead-letter topic.

    Register subscribers with :meth:`subscriber`, then :meth:`attach` them to the broker.
    """

    def __init__(
        self,
        broker: KafkaBroker,
        settings: ServiceSettings,
        *,
        group: str,
        registry: CollectorRegistry,
    ) -> None:
        self._broker = broker
        self._settings = settings
        self.group = settings.topic(group)
        self.dead_letter_topic = settings.topic(dead_letter_topic(group))
        self._handles: dict[str, set[str]] = {}
        dlq_publisher = broker.publisher(self.dead_letter_topic, title=f"dead letters of {group}")

        async def publish_dead_letter(
            value: bytes, key: bytes | None, headers: dict[str, str]
        ) -> None:
            await dlq_publisher.publish(value, key=key, headers=headers)

        self.sink = DeadLetterSink(
            group=self.group,
            topic=self.dead_letter_topic,
            publish=publish_dead_letter,
            registry=registry,
        )
        policy = RetryPolicy(
            max_attempts=settings.handler_max_attempts,
            first_backoff_seconds=settings.handler_retry_backoff_seconds,
            max_backoff_seconds=settings.handler_retry_backoff_max_seconds,
        )

        def backends_up() -> bool:
            # The service's readiness monitor, registered by service_app after we are built;
            # without one (a bare broker in tests) every failure counts.
            monitor = monitor_of(broker)
            return monitor is None or monitor.all_up()

        self._router = KafkaRouter(
            middlewares=[
                dead_letter_middleware(
                    self.sink, handles=self._handles, policy=policy, backends_up=backends_up
                )
            ]
        )

    def subscriber(self, *, handles: Iterable[type[AnyEvent]]) -> DefaultSubscriber:
        """One consumer for every topic that carries the handled event types.

        A single consumer per group avoids the rebalance storm of several consumers with
        different subscriptions joining one group. Offsets are committed only after the
        handler returned (its work persisted); ``NACK_ON_ERROR`` rewinds the partition when
        the handler raises, so a transient failure is retried rather than skipped, up to
        ``handler_max_attempts`` counted failures (then parked, see ``deadletter``). Poison
        messages never reach the handler.
        """
        topics: dict[str, set[str]] = {}
        for event in handles:
            topics.setdefault(self._settings.topic(event.TOPIC), set()).add(event.EVENT_TYPE)
        for name, types in topics.items():
            self._handles.setdefault(name, set()).update(types)
        subscriber: DefaultSubscriber = self._router.subscriber(
            *topics,
            group_id=self.group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            parser=null_tolerant_parser,
            decoder=stashed_event_decoder,
            title=self.group,
        )
        return subscriber

    def attach(self) -> None:
        self._broker.include_router(self._router)
