"""What the analyzer needs from storage, as Protocols (MongoDB in production, fakes in tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from boucle_analyzer.domain.aggregation import AggregateDelta
from boucle_analyzer.domain.detection import Degradation, ScopeSeries
from boucle_analyzer.domain.schedule import Progress
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import ScopeLevel


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


@dataclass(frozen=True, slots=True)
class FigureQuery:
    network_id: str
    granularity: Granularity
    start: datetime | None = None  # periods starting at or after
    end: datetime | None = None  # periods starting before
    level: ScopeLevel | None = None
    site_id: str | None = None
    programme_id: str | None = None
    trainer_id: str | None = None
    limit: int = 500
    # Only scopes of these sites, plus the network-wide ones (no site) when ``network_wide``;
    # None: every scope. How a caller's rights narrow a listing before its limit applies.
    sites: frozenset[str] | None = None
    network_wide: bool = True


class AggregateStore(Protocol):
    async def receive(self, *, event_id: str, position: Position) -> Receipt: ...

    async def apply(self, *, delta: AggregateDelta, position: Position, event_id: str) -> bool:
        """Add ``delta`` unless this position was already applied to that aggregate."""
        ...

    async def apply_all(
        self,
        *,
        deltas: Sequence[AggregateDelta],
        position: Position,
        event_id: str,
        redelivery: bool = False,
    ) -> None:
        """Add each delta not yet applied at this position (one round trip when possible)."""
        ...

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]: ...

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None: ...


class FigureReader(Protocol):
    async def figures(self, *, query: FigureQuery) -> list[ScopeMetricsUpdated]: ...

    async def networks(self) -> list[str]: ...

    async def weekly_series(self, *, network_id: str, since: datetime) -> list[ScopeSeries]:
        """Every scope's weekly counters of a network, for weeks starting at ``since`` or later."""
        ...


HAZARD_SOURCE = "hazard"  # a hazard kept by id (no text) for the problems that name it


@dataclass(frozen=True, slots=True)
class CommentRecord:
    """What is kept of a free comment or complaint text: never the text itself. Hazards
    are kept the same way (``HAZARD_SOURCE``, no themes nor stems) so that a problem can
    name those of its scopes and weeks; they are not comments: neither examples nor stems.
    """

    comment_id: str  # unique in the network: <response_id>:<comment id>, or the complaint id
    network_id: str
    scope_keys: tuple[str, ...]
    at: datetime
    source: str  # "survey", "complaint" or "hazard"
    themes: tuple[str, ...]  # themes of its negative clauses
    negative: bool
    stems: tuple[str, ...]
    event_id: str


class CommentStore(Protocol):
    async def keep(self, *, records: Sequence[CommentRecord]) -> None:
        """Store each record once (idempotent on network and comment id, which names the
        response: every comment of every response is kept, once)."""
        ...

    async def examples(
        self, *, network_id: str, scope_key: str, start: datetime, end: datetime, limit: int
    ) -> list[CommentRecord]:
        """Negative comments (complaints and hazards included) of a scope in [start, end),
        for evidence."""
        ...

    async def stem_counts(
        self, *, network_id: str, scope_key: str, start: datetime, end: datetime
    ) -> tuple[Counter[str], int]:
        """Comments holding each stem, and the number of comments, in [start, end) (hazards
        are not comments)."""
        ...


class DegradationStore(Protocol):
    """Each network's degradations (open and resolved) and the last week its detection ran."""

    async def open_degradations(self, *, network_id: str) -> dict[str, Degradation]: ...

    async def save(self, *, network_id: str, degradations: Sequence[Degradation]) -> None: ...

    async def evaluated_through(self, *, network_id: str) -> datetime | None: ...

    async def set_evaluated_through(self, *, network_id: str, week: datetime) -> None: ...

    async def degradations(self, *, network_id: str, open_only: bool) -> list[Degradation]: ...

    async def count_open(self) -> int: ...

    async def progress(self, *, network_id: str) -> Progress:
        """Cursor, revisions evaluated, watermark and quietness (``domain.schedule``)."""
        ...

    async def set_progress(self, *, network_id: str, progress: Progress) -> None: ...

    async def checkpoint(
        self, *, network_id: str, week: datetime, open_degradations: Sequence[Degradation]
    ) -> None:
        """The open degradations as they stood after ``week``: where a re-run starts from."""
        ...

    async def restore(self, *, network_id: str, week: datetime) -> list[Degradation] | None: ...

    async def remove(self, *, network_id: str, degradation_ids: Sequence[str]) -> None: ...
