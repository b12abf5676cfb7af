"""In-memory AggregateStore with the same semantics as MongoDB's, for unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from boucle_analyzer.domain.aggregation import AggregateDelta, DimensionDelta, figures_of
from boucle_analyzer.domain.ports import Position, Receipt
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated


@dataclass
class _Aggregate:
    delta: AggregateDelta
    responses: int = 0
    dims: dict[str, list[int]] = field(default_factory=dict)  # count, milli, micro², satisfied
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
        aggregate.responses += delta.responses
        aggregate.revision += 1
        aggregate.last_event_id = event_id
        for name, dim in delta.dimensions.items():
            sums = aggregate.dims.setdefault(name, [0, 0, 0, 0])
            for i, value in enumerate(
                (dim.count, dim.total_milli, dim.squares_micro, dim.satisfied)
            ):
                sums[i] += value
        return True

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]:
        dirty = [a for a in self.aggregates.values() if a.revision > a.published_revision]
        return [_snapshot(a) for a in dirty[:limit]]

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None:
        aggregate = self.aggregates.get(snapshot.key)
        if aggregate is not None and aggregate.revision == snapshot.revision:
            aggregate.published_revision = snapshot.revision


def _snapshot(aggregate: _Aggregate) -> ScopeMetricsUpdated:
    return ScopeMetricsUpdated(
        scope=aggregate.delta.scope,
        granularity=aggregate.delta.granularity,
        period=aggregate.delta.period,
        responses=aggregate.responses,
        dimensions=tuple(
            figures_of(name, DimensionDelta(*sums)) for name, sums in sorted(aggregate.dims.items())
        ),
        revision=aggregate.revision,
        last_event_id=aggregate.last_event_id,
    )
