"""In-memory stores: the same contracts as the MongoDB adapters, for tests and wiring without
a database (never used by ``create_app``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from boucle_collector.domain.integrations import FormMapping
from boucle_collector.domain.mapping_revisions import MappingKey, StaleRevisionError, StoredMapping


class InMemoryMappingStore:
    def __init__(self) -> None:
        self.items: dict[MappingKey, StoredMapping] = {}

    async def all(self) -> Sequence[StoredMapping]:
        return list(self.items.values())

    async def get(
        self, *, network_id: str, integration_id: str, form_id: str
    ) -> StoredMapping | None:
        return self.items.get((network_id, integration_id, form_id))

    async def put(
        self,
        *,
        network_id: str,
        integration_id: str,
        form_id: str,
        mapping: FormMapping,
        expected_revision: int | None,
        updated_at: datetime,
        updated_by: str,
    ) -> StoredMapping:
        key = (network_id, integration_id, form_id)
        current = self.items.get(key)
        revision = current.revision if current else None
        if revision != expected_revision:
            raise StaleRevisionError(expected=expected_revision, current=revision)
        stored = StoredMapping(
            network_id=network_id,
            integration_id=integration_id,
            form_id=form_id,
            mapping=mapping,
            revision=(revision or 0) + 1,
            updated_at=updated_at,
            updated_by=updated_by,
        )
        self.items[key] = stored
        return stored

    async def delete(
        self, *, network_id: str, integration_id: str, form_id: str, expected_revision: int | None
    ) -> bool:
        key = (network_id, integration_id, form_id)
        current = self.items.get(key)
        if current is None:
            return False
        if expected_revision is not None and current.revision != expected_revision:
            raise StaleRevisionError(expected=expected_revision, current=current.revision)
        del self.items[key]
        return True


class InMemoryCursorStore:
    def __init__(self) -> None:
        self.cursors: dict[tuple[str, str], int] = {}

    async def last_id(self, *, integration_id: str, survey_id: str) -> int:
        return self.cursors.get((integration_id, survey_id), 0)

    async def advance(self, *, integration_id: str, survey_id: str, response_id: int) -> None:
        key = (integration_id, survey_id)
        self.cursors[key] = max(self.cursors.get(key, 0), response_id)


class InMemoryLeaseStore:
    def __init__(self) -> None:
        self.leases: dict[str, tuple[str, datetime]] = {}

    async def acquire(self, *, name: str, holder: str, seconds: float, now: datetime) -> bool:
        current = self.leases.get(name)
        if current is not None and current[0] != holder and current[1] >= now:
            return False
        self.leases[name] = (holder, now + timedelta(seconds=seconds))
        return True
