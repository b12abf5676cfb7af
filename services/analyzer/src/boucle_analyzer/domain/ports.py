"""What the analyzer needs from storage, as Protocols (MongoDB in production, fakes in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from boucle_analyzer.domain.aggregation import AggregateDelta
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated


@dataclass(frozen=True, slots=True)
class Position:
    """Where a message sits in Kafka: what makes a redelivery recognisable."""

    topic: str
    partition: int
    offset: int

    @property
    def stream(self) -> str:
        """A field-name-safe name of the topic partition."""
        return f"{self.topic.replace('.', '_')}_{self.partition}"


class Receipt(Enum):
    NEW = "new"  # first time we see this event id
    REDELIVERY = "redelivery"  # same message again (crash before commit): re-apply idempotently
    DUPLICATE = "duplicate"  # same event id at another position: already counted, skip


class AggregateStore(Protocol):
    async def receive(self, *, event_id: str, position: Position) -> Receipt: ...

    async def apply(self, *, delta: AggregateDelta, position: Position, event_id: str) -> bool:
        """Add ``delta`` unless this position was already applied to that aggregate."""
        ...

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]: ...

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None: ...
