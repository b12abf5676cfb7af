"""Poison messages go to a dead-letter topic with the reason in headers; the consumer goes on.

A message is poison when it can never be processed as it is: undecodable bytes, JSON that
breaks the contract, an event type the contracts do not know. Anything else (database down,
broker hiccup) is transient: the exception propagates, the subscriber's NACK_ON_ERROR
policy rewinds the partition, and the message is tried again.

Event types the contracts know but this consumer does not handle are skipped (acknowledged
without processing): a topic may carry several event types, and newer ones may appear.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream import BaseMiddleware
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from boucle_contracts import kafka as wire
from boucle_contracts.registry import EVENTS_BY_TYPE, AnyEvent, UnknownEventTypeError, decode_event
from boucle_runtime.logging import get_logger

log = get_logger(__name__)

PoisonError = (ValidationError, UnknownEventTypeError, UnicodeDecodeError)


class DeadLetterSink:
    """Where a consumer group's poison messages go, and the counters that watch them."""

    def __init__(
        self,
        *,
        group: str,
        topic: str,
        publish: Callable[[bytes, bytes | None, dict[str, str]], Awaitable[None]],
        registry: CollectorRegistry,
    ) -> None:
        self.group = group
        self.topic = topic
        self._publish = publish
        self.dead_letters = Counter(
            "boucle_dead_letters",
            "Messages parked on a dead-letter topic, by reason.",
            ["group", "reason"],
            registry=registry,
        )
        self.skipped = Counter(
            "boucle_events_skipped",
            "Known event types this consumer does not handle, acknowledged unprocessed.",
            ["group", "event_type"],
            registry=registry,
        )

    async def park(self, record: ConsumerRecord[bytes, bytes], *, reason: str, error: str) -> None:
        headers = {
            **{key: (value or b"").decode(errors="replace") for key, value in record.headers or ()},
            wire.HEADER_DLQ_REASON: reason,
            wire.HEADER_DLQ_ERROR: error[:2000],
            wire.HEADER_DLQ_TOPIC: record.topic,
            wire.HEADER_DLQ_PARTITION: str(record.partition),
            wire.HEADER_DLQ_OFFSET: str(record.offset),
            wire.HEADER_DLQ_GROUP: self.group,
            wire.HEADER_DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
        }
        await self._publish(record.value or b"", record.key, headers)
        self.dead_letters.labels(self.group, reason).inc()
        log.warning(
            "message_dead_lettered",
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            dead_letter_topic=self.topic,
        )


_STASH = "_boucle_event"


async def null_tolerant_parser(
    record: ConsumerRecord[bytes, bytes],
    original: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """Subscriber parser: Kafka allows null header values, FastStream's parser does not.

    Without this, one message with a null header fails before any middleware runs, and the
    partition is rewound forever. Null values become empty bytes.
    """
    headers = record.headers or ()
    if any(value is None for _, value in headers):
        record = dataclasses.replace(record, headers=tuple((k, v or b"") for k, v in headers))
    return await original(record)


async def stashed_event_decoder(msg: StreamMessage[Any]) -> AnyEvent:
    """Subscriber decoder: the event the middleware already decoded and validated."""
    stashed: AnyEvent | None = getattr(msg, _STASH, None)
    return stashed if stashed is not None else decode_event(msg.body)


class _Backoff:
    """Slows retries of a failing handler (e.g. database down) instead of spinning."""

    def __init__(self, group: str, *, first: float = 0.2, ceiling: float = 10.0) -> None:
        self._group, self._first, self._ceiling, self._delay = group, first, ceiling, 0.0

    async def failed(self, exc: Exception) -> None:
        self._delay = min(self._ceiling, self._delay * 2 or self._first)
        log.warning(
            "handler_failed_will_retry", group=self._group, error=repr(exc), retry_in_s=self._delay
        )
        await asyncio.sleep(self._delay)

    def succeeded(self) -> None:
        self._delay = 0.0


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value or b"").decode(errors="replace")
    return None


def dead_letter_middleware(
    sink: DeadLetterSink, *, handles: Mapping[str, Collection[str]]
) -> Callable[..., BaseMiddleware]:
    """Middleware factory for one consumer group; ``handles`` maps a topic to its event types."""

    backoff = _Backoff(sink.group)

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
        ) -> Any:
            record: ConsumerRecord[bytes, bytes] = msg.raw_message
            handled = handles.get(record.topic, ())
            hinted = _header(record, wire.HEADER_TYPE)
            if hinted in EVENTS_BY_TYPE and hinted not in handled:
                sink.skipped.labels(sink.group, hinted).inc()
                return None
            try:
                event = decode_event(record.value or b"")
            except PoisonError as exc:
                await sink.park(record, reason=type(exc).__name__, error=str(exc))
                return None
            if event.type not in handled:
                sink.skipped.labels(sink.group, event.type).inc()
                return None
            setattr(msg, _STASH, event)  # read by stashed_event_decoder: no second parse
            try:
                result = await call_next(msg)
            except Exception as exc:
                await backoff.failed(exc)
                raise  # NACK_ON_ERROR rewinds the partition: the message is tried again
            backoff.succeeded()
            return result

    def factory(msg: Any, /, *, context: ContextRepo) -> BaseMiddleware:
        return DeadLetterMiddleware(msg, context=context)

    return factory
