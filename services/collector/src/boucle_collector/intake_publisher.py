"""The HTTP-to-Kafka intake publisher: a validated fact in, a contract event out, acknowledged
by Kafka before the caller is answered. Every entry point (native API, bulk, webhooks, file
imports, the LimeSurvey pull) publishes through it; the collector subscribes to no topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from boucle_collector.domain.intake import DataT, Intake, IntakeKind
from boucle_collector.domain.limits import RecentIds
from boucle_collector.domain.person_names import FreeTextRedactor
from boucle_collector.metrics import CollectorMetrics
from boucle_contracts.envelope import Envelope
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
# Items redacted per worker-thread call on bulk paths: one ``nlp.pipe`` batch of their texts,
# short enough (~0.1-0.3 s) that the first publications start early.
REDACT_CHUNK = 32


class IntakeUnavailableError(RuntimeError):
    """Kafka did not acknowledge in time, or failed: the outcome is unknown.

    The event may still be on the topic (a broker that crashed after writing it, a producer
    that delivers it after the timeout). A retry is safe: the same fact gets the same event
    id, and every consumer counts an id once.
    """

    def __init__(self, message: str, *, event_id: str) -> None:
        super().__init__(message)
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class Outcome:
    """An accepted event; ``duplicate`` when it had just been accepted and was not republished."""

    event: Envelope[Any]
    duplicate: bool = False

    @property
    def status(self) -> str:
        return "duplicate" if self.duplicate else "accepted"


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # marks it retrieved: no "never retrieved" warning if nobody waits


class IntakePublisher:
    """Publishes each accepted fact once, and says whether it was accepted or a duplicate."""

    def __init__(
        self,
        *,
        sink: EventSink,
        metrics: CollectorMetrics,
        timeout_seconds: float,
        recent_ids: int = 100_000,
        redactor: FreeTextRedactor | None = None,
    ) -> None:
        self._sink = sink
        # Without one: contacts and the civility/role rule only, names as [nom masqué].
        self._redactor = redactor if redactor is not None else FreeTextRedactor()
        self._metrics = metrics
        self._timeout = timeout_seconds
        self._recent = RecentIds(recent_ids)
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    @property
    def metrics(self) -> CollectorMetrics:
        return self._metrics

    async def redacted(self, kind: IntakeKind[DataT], items: Sequence[DataT]) -> list[DataT]:
        """``items`` with contacts and person names masked in their free text.

        With the NER model (milliseconds a text, CPU-bound) the work runs in a worker thread,
        ``REDACT_CHUNK`` items per call (one batch through the model), never on the event
        loop; the rule alone (microseconds a text) runs inline, yielding between chunks.
        """
        if len(items) == 1 and not self._redactor.uses_model:
            return kind.redact_many(items, self._redactor)
        done: list[DataT] = []
        for start in range(0, len(items), REDACT_CHUNK):
            chunk = items[start : start + REDACT_CHUNK]
            if self._redactor.uses_model:
                done += await asyncio.to_thread(kind.redact_many, chunk, self._redactor)
            else:  # a few ms per chunk: other requests get their turn in between
                done += kind.redact_many(chunk, self._redactor)
                await asyncio.sleep(0)
        return done

    async def accept(
        self, kind: IntakeKind[DataT], intake: Intake, data: DataT, *, redacted: bool = False
    ) -> Outcome:
        """Publish and wait for Kafka's acknowledgement (acks=all): only then is it accepted.

        ``data`` is redacted first, unless the caller already did (``redacted``: bulk paths
        redact their items in batches, :meth:`redacted`). The same event id arriving again
        while this replica remembers it (or while its first delivery is still being
        published) is answered as a duplicate and not published twice.
        """
        if not redacted:
            (data,) = await self.redacted(kind, [data])
        event = kind.envelope(data, intake=intake)
        if event.id in self._recent:
            return self._duplicate(event, intake)
        task = self._in_flight.get(event.id)
        if task is not None:
            await asyncio.shield(task)
            return self._duplicate(event, intake)
        task = asyncio.ensure_future(self._publish(event, intake))
        task.add_done_callback(_retrieve)  # its failure is reported to whoever awaits it
        self._in_flight[event.id] = task
        try:
            await asyncio.shield(task)
        finally:
            if task.done():
                self._in_flight.pop(event.id, None)
            else:  # our caller went away: the publication goes on, then is forgotten
                task.add_done_callback(lambda _: self._in_flight.pop(event.id, None))
        return Outcome(event)

    def _duplicate(self, event: Envelope[Any], intake: Intake) -> Outcome:
        self._metrics.duplicates.labels(event.type, intake.channel).inc()
        log.info("duplicate_answered", event_type=event.type, event_id=event.id)
        return Outcome(event, duplicate=True)

    async def _publish(self, event: Envelope[Any], intake: Intake) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._sink.publish(event), timeout=self._timeout)
        except Exception as exc:
            self._metrics.rejected.labels("kafka_unavailable", intake.channel).inc()
            self._metrics.kafka_errors.labels(type(exc).__name__).inc()
            log.warning("publish_failed", event_type=event.type, event_id=event.id, error=repr(exc))
            raise IntakeUnavailableError(str(exc) or type(exc).__name__, event_id=event.id) from exc
        self._metrics.publish_seconds.observe(time.perf_counter() - started)
        self._metrics.accepted.labels(event.type, intake.channel).inc()
        self._recent.add(event.id)
        log.info("event_accepted", event_type=event.type, event_id=event.id, site_id=intake.site_id)
