"""Poison messages go to a dead-letter topic with the reason in headers; the consumer goes on.

A message is poison when it can never be processed as it is: undecodable bytes, JSON that
breaks the contract, an event type the contracts do not know. It is parked at once.

When the handler raises, the exception propagates, the subscriber's NACK_ON_ERROR policy
rewinds the partition, and the message is tried again after a backoff. A message whose
handler keeps failing (a bug, data the code cannot handle) would stall its partition for
ever: after ``max_attempts`` counted failures it is parked too (reason ``HandlerFailed``,
the exception's type, its masked message and the attempt count in headers). An outage is
not the message's fault, so its failures are not counted: errors that say a backend is
unreachable (connection refused or lost, timeouts, PyMongo's retryable errors) and any
failure while the service's readiness checks see a backend down. Those are retried until
the backend is back, the partition waiting for it as before.

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
from aiokafka import errors as kafka_errors
from faststream import BaseMiddleware
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, PyMongoError

from boucle_contracts import kafka as wire
from boucle_contracts.registry import EVENTS_BY_TYPE, AnyEvent, UnknownEventTypeError, decode_event
from boucle_runtime.logging import get_logger
from boucle_runtime.redaction import mask_text

log = get_logger(__name__)

PoisonError = (ValidationError, UnknownEventTypeError, UnicodeDecodeError)

# Reason of a message parked because its handler kept failing, and the headers that say how.
HANDLER_FAILED = "HandlerFailed"
HEADER_DLQ_EXCEPTION = "boucle_dlq_exception"
HEADER_DLQ_ATTEMPTS = "boucle_dlq_attempts"
ERROR_HEADER_LIMIT = 2000

# A backend that does not answer: the failure says nothing about the message.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted
    TimeoutError,  # asyncio.TimeoutError too
    ConnectionFailure,  # PyMongo: AutoReconnect, NotPrimaryError, NetworkTimeout, selection
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NotLeaderForPartitionError,
)


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says a backend is unreachable."""
    seen: BaseException | None = exc
    for _ in range(8):  # causes and contexts, not an endless chain
        if seen is None:
            return False
        if isinstance(seen, OUTAGE_ERRORS):
            return True
        if isinstance(seen, PyMongoError) and (
            seen.timeout
            or seen.has_error_label("RetryableWriteError")
            or seen.has_error_label("TransientTransactionError")
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failing message is tried before it is parked."""

    max_attempts: int = 5
    first_backoff_seconds: float = 0.2
    max_backoff_seconds: float = 10.0


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
            "Messages parked on a dead-letter topic, by reason (the poison's exception type, "
            "or HandlerFailed: the handler kept failing on a valid message).",
            ["group", "reason"],
            registry=registry,
        )
        self.skipped = Counter(
            "boucle_events_skipped",
            "Known event types this consumer does not handle, acknowledged unprocessed.",
            ["group", "event_type"],
            registry=registry,
        )

    async def park(
        self,
        record: ConsumerRecord[bytes, bytes],
        *,
        reason: str,
        error: str,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Publish ``record`` byte for byte on the dead-letter topic, the reason in headers.

        Header text is masked by value (an error message may quote the payload: e-mail
        addresses, phone numbers, tokens), the error cut at ``ERROR_HEADER_LIMIT`` chars.
        """
        original = {
            key: mask_text((value or b"").decode(errors="replace"))
            for key, value in record.headers or ()
        }
        headers = {
            **original,
            **(extra_headers or {}),
            wire.HEADER_DLQ_REASON: reason,
            wire.HEADER_DLQ_ERROR: mask_text(error)[:ERROR_HEADER_LIMIT],
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

    async def failed(self, exc: Exception, *, attempt: int | None = None) -> None:
        """``attempt``: the counted attempt of this message, None when not counted (outage)."""
        self._delay = min(self._ceiling, self._delay * 2 or self._first)
        log.warning(
            "handler_failed_will_retry",
            group=self._group,
            error=repr(exc),
            attempt=attempt,
            retry_in_s=self._delay,
        )
        await asyncio.sleep(self._delay)

    def succeeded(self) -> None:
        self._delay = 0.0


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value or b"").decode(errors="replace")
    return None


class _Attempts:
    """Counted failed attempts per message (topic, partition, offset) of one group."""

    def __init__(self, policy: RetryPolicy, backends_up: Callable[[], bool]) -> None:
        self._policy, self._backends_up = policy, backends_up
        self._counts: dict[tuple[str, int, int], int] = {}

    def failed(self, record: ConsumerRecord[bytes, bytes], exc: Exception) -> int | None:
        """The message's attempt count after this failure; None if it does not count."""
        if is_outage(exc) or not self._backends_up():
            return None
        key = (record.topic, record.partition, record.offset)
        if key not in self._counts and len(self._counts) >= 10_000:
            self._counts.clear()  # entries of partitions this replica lost; never that many
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]

    def exhausted(self, attempt: int | None) -> bool:
        return attempt is not None and attempt >= self._policy.max_attempts

    def done(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self._counts.pop((record.topic, record.partition, record.offset), None)


def _always_up() -> bool:
    return True


def dead_letter_middleware(
    sink: DeadLetterSink,
    *,
    handles: Mapping[str, Collection[str]],
    policy: RetryPolicy | None = None,
    backends_up: Callable[[], bool] = _always_up,
) -> Callable[..., BaseMiddleware]:
    """Middleware factory for one consumer group; ``handles`` maps a topic to its event types.

    ``backends_up`` says whether every backend answered its last readiness check: a failure
    while one does not is an outage's, not counted towards parking the message.
    """
    policy = policy or RetryPolicy()
    backoff = _Backoff(
        sink.group, first=policy.first_backoff_seconds, ceiling=policy.max_backoff_seconds
    )
    attempts = _Attempts(policy, backends_up)

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
                attempt = attempts.failed(record, exc)
                if not attempts.exhausted(attempt):
                    await backoff.failed(exc, attempt=attempt)
                    raise  # NACK_ON_ERROR rewinds the partition: the message is tried again
                await sink.park(
                    record,
                    reason=HANDLER_FAILED,
                    error=f"{type(exc).__name__}: {exc}",
                    extra_headers={
                        HEADER_DLQ_EXCEPTION: type(exc).__name__,
                        HEADER_DLQ_ATTEMPTS: str(attempt),
                    },
                )
                log.error(
                    "message_parked_after_failures",
                    group=sink.group,
                    error_type=type(exc).__name__,
                    attempts=attempt,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
                attempts.done(record)
                backoff.succeeded()
                return None  # acknowledged: the partition goes on
            attempts.done(record)
            backoff.succeeded()
            return result

    def factory(msg: Any, /, *, context: ContextRepo) -> BaseMiddleware:
        return DeadLetterMiddleware(msg, context=context)

    return factory
