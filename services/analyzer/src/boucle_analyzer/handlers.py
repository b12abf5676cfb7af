"""Contract in, domain, contract out: survey responses become aggregates, aggregates snapshots."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from faststream.kafka.annotations import KafkaMessage

from boucle_analyzer.domain.aggregation import deltas_for
from boucle_analyzer.domain.ports import AggregateStore, Position, Receipt
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated, ScopeMetricsUpdatedV1
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
SNAPSHOT_ID_NAMESPACE = uuid.UUID("0b7d0b1e-9a55-5c55-8a0e-3c2f4d5e6f70")


class FeedbackHandler:
    def __init__(self, *, store: AggregateStore, metrics: AnalyzerMetrics) -> None:
        self._store = store
        self._metrics = metrics

    async def on_survey_response(
        self, event: SurveyResponseSubmittedV1, position: Position
    ) -> Receipt:
        receipt = await self._store.receive(event_id=event.id, position=position)
        if receipt is Receipt.DUPLICATE:
            self._metrics.events.labels(event.type, "duplicate").inc()
            log.info("duplicate_event_skipped", event_id=event.id)
            return receipt
        for delta in deltas_for(event.network_id, event.site_id, event.data):
            await self._store.apply(delta=delta, position=position, event_id=event.id)
        self._metrics.events.labels(event.type, receipt.value).inc()
        return receipt


class SnapshotPublisher:
    """Publishes the figures of every aggregate that changed since its last publication.

    The "changed" flag lives in the aggregate document, so a crash between persisting and
    publishing loses nothing: the next round publishes it. Snapshot ids derive from the
    aggregate and its revision, so a re-publication is recognised downstream.
    """

    def __init__(
        self,
        *,
        store: AggregateStore,
        publisher: EventSink,
        metrics: AnalyzerMetrics,
        batch_size: int,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._batch_size = batch_size

    async def publish_pending(self) -> int:
        snapshots = await self._store.pending_snapshots(limit=self._batch_size)
        for snapshot in snapshots:
            await self._publisher.publish(self._event(snapshot))
            await self._store.mark_published(snapshot=snapshot)
            self._metrics.snapshots.inc()
        return len(snapshots)

    async def run(self, stopping: asyncio.Event, interval_seconds: float) -> None:
        while not stopping.is_set():
            try:
                published = await self.publish_pending()
            except Exception as exc:  # keep the loop alive through outages; the flag persists
                log.warning("snapshot_publication_failed", error=repr(exc))
                published = 0
            if published < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=interval_seconds)

    @staticmethod
    def _event(snapshot: ScopeMetricsUpdated) -> ScopeMetricsUpdatedV1:
        key = snapshot.key
        return ScopeMetricsUpdatedV1.create(
            data=snapshot,
            network_id=snapshot.scope.network_id,
            site_id=snapshot.scope.site_id,
            source="/analyzer/aggregates",
            event_id=str(uuid.uuid5(SNAPSHOT_ID_NAMESPACE, f"{key}|{snapshot.revision}")),
            subject=key,
        )


def subscribe(consumers: Consumers, handler: FeedbackHandler) -> None:
    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def on_feedback(event: SurveyResponseSubmittedV1, message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple), "batch delivery is not used here"
        await handler.on_survey_response(
            event, Position(record.topic, record.partition, record.offset)
        )
