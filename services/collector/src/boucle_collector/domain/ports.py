"""What the collector's domain needs from storage (MongoDB in production, fakes in tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from boucle_collector.domain.integrations import FormMapping
from boucle_collector.domain.mapping_revisions import StoredMapping


class MappingStore(Protocol):
    """Form mappings managed through the API, one document each, written atomically."""

    async def all(self) -> Sequence[StoredMapping]: ...

    async def get(
        self, *, network_id: str, integration_id: str, form_id: str
    ) -> StoredMapping | None: ...

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
        """Create (``expected_revision`` None) or replace the mapping at that revision;
        StaleRevisionError otherwise. The stored revision is incremented."""
        ...

    async def delete(
        self, *, network_id: str, integration_id: str, form_id: str, expected_revision: int | None
    ) -> bool:
        """False when there is none; StaleRevisionError when not at ``expected_revision``."""
        ...


class CursorStore(Protocol):
    """Per pulled survey, the last response id whose event Kafka acknowledged."""

    async def last_id(self, *, integration_id: str, survey_id: str) -> int:
        """0 when nothing was pulled yet."""
        ...

    async def advance(self, *, integration_id: str, survey_id: str, response_id: int) -> None:
        """Never goes backwards (a smaller ``response_id`` changes nothing)."""
        ...


class LeaseStore(Protocol):
    """A named lease held by one process at a time, until it expires unless renewed."""

    async def acquire(self, *, name: str, holder: str, seconds: float, now: datetime) -> bool:
        """True when ``holder`` holds it (taken free or expired, or renewed) until now+seconds."""
        ...
