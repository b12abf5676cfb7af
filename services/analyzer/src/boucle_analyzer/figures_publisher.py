"""Figures out: every aggregate that changed becomes a ``scope_metrics_updated`` snapshot."""

from __future__ import annotations

import uuid

from boucle_analyzer.domain.ports import AggregateStore
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated, ScopeMetricsUpdatedV1
from boucle_runtime.kafka import EventSink
from boucle_runtime.periodic import BackgroundLoop, every

SNAPSHOT_ID_NAMESPACE = uuid.UUID("0b7d0b1e-9a55-5c55-8a0e-3c2f4d5e6f70")


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

    def loop(self, interval_seconds: float) -> BackgroundLoop:
        """Publish at start, then every ``interval_seconds``; a full batch goes on at once."""
        return every(interval_seconds, self._step, name="snapshot_publication", at_start=True)

    async def _step(self) -> bool:
        return await self.publish_pending() >= self._batch_size

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
