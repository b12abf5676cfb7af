"""Intake: a validated fact in, a contract event out, acknowledged by Kafka before we answer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from boucle_collector.domain.intake import DataT, Intake, IntakeKind
from boucle_collector.domain.limits import RecentIds
from boucle_collector.metrics import CollectorMetrics
from boucle_contracts.envelope import Envelope
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)


class IntakeUnavailableError(RuntimeError):
    """Kafka did not acknowledge in time: nothing was accepted, the caller should retry."""


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


class IntakeHandler:
    def __init__(
        self,
        *,
        publisher: EventSink,
        metrics: CollectorMetrics,
        timeout_seconds: float,
        recent_ids: int = 100_000,
    ) -> None:
        self._publisher = publisher
        self._metrics = metrics
        self._timeout = timeout_seconds
        self._recent = RecentIds(recent_ids)
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    @property
    def metrics(self) -> CollectorMetrics:
        return self._metrics

    async def accept(self, kind: IntakeKind[DataT], intake: Intake, data: DataT) -> Outcome:
        """Publish and wait for Kafka's acknowledgement (acks=all): only then is it accepted.

        The same event id arriving again while this replica remembers it (or while its first
        delivery is still being published) is answered as a duplicate and not published twice.
        """
        event = kind.envelope(kind.redact(data), intake=intake)
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
            await asyncio.wait_for(self._publisher.publish(event), timeout=self._timeout)
        except Exception as exc:
            self._metrics.rejected.labels("kafka_unavailable", intake.channel).inc()
            self._metrics.kafka_errors.labels(type(exc).__name__).inc()
            log.warning("publish_failed", event_type=event.type, event_id=event.id, error=repr(exc))
            raise IntakeUnavailableError(str(exc) or type(exc).__name__) from exc
        self._metrics.publish_seconds.observe(time.perf_counter() - started)
        self._metrics.accepted.labels(event.type, intake.channel).inc()
        self._recent.add(event.id)
        log.info("event_accepted", event_type=event.type, event_id=event.id, site_id=intake.site_id)
