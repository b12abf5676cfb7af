"""In-memory stores with the same semantics as the MongoDB ones, for unit tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from boucle_analyzer.domain.aggregation import AggregateDelta
from boucle_analyzer.domain.detection import Degradation, ScopeSeries
from boucle_analyzer.domain.figures import snapshot_from
from boucle_analyzer.domain.ports import (
    HAZARD_SOURCE,
    CommentRecord,
    FigureQuery,
    Position,
    Receipt,
)
from boucle_analyzer.domain.schedule import Progress
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated


@dataclass
class _Aggregate:
    delta: AggregateDelta
    counts: dict[str, int] = field(default_factory=dict)
    revision: int = 0
    published_revision: int = 0
    watermarks: dict[str, int] = field(default_factory=dict)
    last_event_id: str = ""


class InMemoryAggregateStore:
    def __init__(self) -> None:
        self.received: dict[str, Position] = {}
        self.aggregates: dict[str, _Aggregate] = {}

    async def receive(self, *, event_id: str, position: Position) -> Receipt:
        seen = self.received.get(event_id)
        if seen is None:
            self.received[event_id] = position
            return Receipt.NEW
        return Receipt.REDELIVERY if seen == position else Receipt.DUPLICATE

    async def apply(self, *, delta: AggregateDelta, position: Position, event_id: str) -> bool:
        aggregate = self.aggregates.setdefault(delta.key, _Aggregate(delta=delta))
        if aggregate.watermarks.get(position.stream, -1) >= position.offset:
            return False
        aggregate.watermarks[position.stream] = position.offset
        aggregate.revision += 1
        aggregate.last_event_id = event_id
        for path, value in delta.increments().items():
            aggregate.counts[path] = aggregate.counts.get(path, 0) + value
        return True

    async def apply_all(
        self,
        *,
        deltas: Sequence[AggregateDelta],
        position: Position,
        event_id: str,
        redelivery: bool = False,
    ) -> None:
        for delta in deltas:
            await self.apply(delta=delta, position=position, event_id=event_id)

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]:
        dirty = [a for a in self.aggregates.values() if a.revision > a.published_revision]
        return [_snapshot(a) for a in dirty[:limit]]

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None:
        aggregate = self.aggregates.get(snapshot.key)
        if aggregate is not None and aggregate.revision == snapshot.revision:
            aggregate.published_revision = snapshot.revision


def _snapshot(aggregate: _Aggregate) -> ScopeMetricsUpdated:
    return snapshot_from(
        scope=aggregate.delta.scope,
        granularity=aggregate.delta.granularity,
        period=aggregate.delta.period,
        counts=aggregate.counts,
        revision=aggregate.revision,
        last_event_id=aggregate.last_event_id,
    )


class InMemoryFigureReader:
    """The read side of an in-memory aggregate store."""

    def __init__(self, store: InMemoryAggregateStore) -> None:
        self._store = store

    def _matching(self, query: FigureQuery) -> list[_Aggregate]:
        found = []
        for aggregate in self._store.aggregates.values():
            delta = aggregate.delta
            scope = delta.scope
            if scope.network_id != query.network_id or delta.granularity != query.granularity:
                continue
            start = delta.period.start
            if (query.start and start < query.start) or (query.end and start >= query.end):
                continue
            if query.level is not None and scope.level is not query.level:
                continue
            if any(
                getattr(query, name) is not None and getattr(scope, name) != getattr(query, name)
                for name in ("site_id", "programme_id", "trainer_id")
            ):
                continue
            if query.sites is not None and (
                scope.site_id not in query.sites
                if scope.site_id is not None
                else not query.network_wide
            ):
                continue
            found.append(aggregate)
        return sorted(found, key=lambda a: (a.delta.period.start, a.delta.key))

    async def figures(self, *, query: FigureQuery) -> list[ScopeMetricsUpdated]:
        return [_snapshot(a) for a in self._matching(query)[: query.limit]]

    async def networks(self) -> list[str]:
        return sorted({a.delta.scope.network_id for a in self._store.aggregates.values()})

    async def weekly_series(self, *, network_id: str, since: datetime) -> list[ScopeSeries]:
        query = FigureQuery(network_id=network_id, granularity=Granularity.WEEK, start=since)
        by_scope: dict[str, ScopeSeries] = {}
        for aggregate in self._matching(query):
            scope = aggregate.delta.scope
            series = by_scope.setdefault(scope.key(), ScopeSeries(scope, {}))
            assert isinstance(series.weeks, dict)
            series.weeks[aggregate.delta.period.start] = dict(aggregate.counts)
        return [by_scope[key] for key in sorted(by_scope)]


class InMemoryCommentStore:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], CommentRecord] = {}

    async def keep(self, *, records: Sequence[CommentRecord]) -> None:
        for record in records:
            self.records.setdefault((record.network_id, record.comment_id), record)

    def _in(
        self, network_id: str, scope_key: str, start: datetime, end: datetime
    ) -> list[CommentRecord]:
        return sorted(
            (
                r
                for r in self.records.values()
                if r.network_id == network_id and scope_key in r.scope_keys and start <= r.at < end
            ),
            key=lambda r: (r.at, r.comment_id),
        )

    async def examples(
        self, *, network_id: str, scope_key: str, start: datetime, end: datetime, limit: int
    ) -> list[CommentRecord]:
        return [r for r in self._in(network_id, scope_key, start, end) if r.negative][:limit]

    async def stem_counts(
        self, *, network_id: str, scope_key: str, start: datetime, end: datetime
    ) -> tuple[Counter[str], int]:
        records = [
            r for r in self._in(network_id, scope_key, start, end) if r.source != HAZARD_SOURCE
        ]
        return Counter(s for r in records for s in set(r.stems)), len(records)


class InMemoryDegradationStore:
    def __init__(self) -> None:
        self.saved: dict[str, tuple[str, Degradation]] = {}
        self.cursors: dict[str, datetime] = {}
        self.states: dict[str, Progress] = {}
        self.checkpoints: dict[tuple[str, datetime], list[Degradation]] = {}

    async def open_degradations(self, *, network_id: str) -> dict[str, Degradation]:
        return {e.key: e for n, e in self.saved.values() if n == network_id and e.open}

    async def save(self, *, network_id: str, degradations: Sequence[Degradation]) -> None:
        for degradation in degradations:
            self.saved[degradation.degradation_id] = (network_id, degradation)

    async def evaluated_through(self, *, network_id: str) -> datetime | None:
        return self.cursors.get(network_id)

    async def set_evaluated_through(self, *, network_id: str, week: datetime) -> None:
        self.cursors[network_id] = week

    async def degradations(self, *, network_id: str, open_only: bool) -> list[Degradation]:
        found = [e for n, e in self.saved.values() if n == network_id and (e.open or not open_only)]
        return sorted(found, key=lambda e: (e.opened_week, e.degradation_id))

    async def count_open(self) -> int:
        return sum(e.open for _, e in self.saved.values())

    async def progress(self, *, network_id: str) -> Progress:
        # The cursor lives in ``cursors`` (tests clear it to force a re-run from scratch).
        state = self.states.get(network_id, Progress())
        return replace(state, through=self.cursors.get(network_id))

    async def set_progress(self, *, network_id: str, progress: Progress) -> None:
        self.states[network_id] = progress
        if progress.through is None:
            self.cursors.pop(network_id, None)
        else:
            self.cursors[network_id] = progress.through

    async def checkpoint(
        self, *, network_id: str, week: datetime, open_degradations: Sequence[Degradation]
    ) -> None:
        self.checkpoints[(network_id, week)] = list(open_degradations)

    async def restore(self, *, network_id: str, week: datetime) -> list[Degradation] | None:
        found = self.checkpoints.get((network_id, week))
        return None if found is None else list(found)

    async def remove(self, *, network_id: str, degradation_ids: Sequence[str]) -> None:
        for degradation_id in degradation_ids:
            self.saved.pop(degradation_id, None)
