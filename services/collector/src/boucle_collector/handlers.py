"""Intake: a validated fact in, a contract event out, acknowledged by Kafka before we answer."""

from __future__ import annotations

import asyncio
import time

from boucle_collector.domain.intake import DataT, Intake, IntakeKind
from boucle_collector.metrics import CollectorMetrics
from boucle_contracts.envelope import Envelope
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)


class IntakeUnavailableError(RuntimeError):
    """Kafka did not acknowledge in time: nothing was accepted, the caller should retry."""


class IntakeHandler:
    def __init__(
        self, *, publisher: EventSink, metrics: CollectorMetrics, timeout_seconds: float
    ) -> None:
        self._publisher = publisher
        self._metrics = metrics
        self._timeout = timeout_seconds

    async def accept(self, kind: IntakeKind[DataT], intake: Intake, data: DataT) -> Envelope[DataT]:
        """Publish and wait for Kafka's acknowledgement (acks=all): only then is it accepted."""
        event = kind.envelope(data, intake=intake)
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._publisher.publish(event), timeout=self._timeout)
        except Exception as exc:
            self._metrics.rejected.labels("kafka_unavailable").inc()
            log.warning("publish_failed", event_type=event.type, event_id=event.id, error=repr(exc))
            raise IntakeUnavailableError(str(exc) or type(exc).__name__) from exc
        self._metrics.publish_seconds.observe(time.perf_counter() - started)
        self._metrics.accepted.labels(event.type, intake.channel).inc()
        log.info("event_accepted", event_type=event.type, event_id=event.id, site_id=intake.site_id)
        return event
