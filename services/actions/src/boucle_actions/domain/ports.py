"""Storage the actions service needs, as Protocols (MongoDB in production, fakes in tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from boucle_actions.domain.actions import Action
from boucle_actions.domain.cases import Case, Deadlines
from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated
from boucle_contracts.registry import AnyEvent


class ConflictError(Exception):
    """A write based on a revision that is no longer the stored one (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class Query:
    """A filtered, paginated listing; ``site_ids`` None means every site of the network."""

    network_id: str
    site_ids: frozenset[str] | None = None
    include_network_wide: bool = True
    status: str | None = None
    owner: str | None = None
    source: str | None = None
    overdue_at: datetime | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    offset: int = 0
    limit: int = 50


class CaseRepository(Protocol):
    async def open(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        """Store the case unless it exists; either way it stays unannounced until marked."""
        ...

    async def unannounced(self, *, case_id: str) -> bool: ...

    async def mark_announced(self, *, case_id: str) -> None: ...


class KpiRepository(Protocol):
    async def keep_latest(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        """Store the snapshot if its revision is newer than the stored one."""
        ...

    async def snapshots_for(
        self, *, network_id: str, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]: ...

    async def data_until(self, *, network_id: str) -> datetime | None:
        """The network's data time: the latest end of a period it has figures for."""
        ...


class DeadlineSettings(Protocol):
    async def deadlines_for(self, *, network_id: str) -> Deadlines: ...

    async def set_deadlines(self, *, network_id: str, deadlines: Deadlines) -> None: ...


E = TypeVar("E")


class Entities(Protocol[E]):
    """Cases, actions or meetings: each change one atomic write, with the events it caused
    kept in the entity's outbox until published; every read scoped to a network."""

    async def insert(self, entity: E, *, events: Sequence[AnyEvent] = ()) -> bool: ...

    async def get(self, *, network_id: str, entity_id: str) -> E | None: ...

    async def save(
        self, entity: E, *, expected_revision: int, events: Sequence[AnyEvent] = ()
    ) -> None: ...

    async def add_once(
        self,
        *,
        network_id: str,
        entity_id: str,
        field: str,
        value: str,
        events: Sequence[AnyEvent] = (),
    ) -> bool: ...

    async def search(self, query: Query) -> tuple[list[E], int]: ...

    async def pending(self, *, limit: int = 100) -> list[tuple[str, list[str]]]: ...

    async def published(self, *, entity_id: str, events: Sequence[str]) -> None: ...


class CaseStore(Entities[Case], Protocol):
    async def overdue_candidates(self, now: datetime) -> list[Case]: ...


class ActionStore(Entities[Action], Protocol):
    async def due_for_evaluation(self, now: datetime) -> list[Action]: ...
