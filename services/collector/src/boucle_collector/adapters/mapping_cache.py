"""API-managed mappings, cached in the process so that no webhook or import reads MongoDB.

The cache is filled at start (MongoDB must answer), refreshed every
``mappings_refresh_seconds`` by a background loop, and updated at once by the writes this
replica makes. Staleness: a write made through *another* replica is seen here after at most
one refresh period (plus the time MongoDB takes to answer); while MongoDB is unreachable the
last loaded mappings stay in force (logged), and writes through the API fail (503).
"""

from __future__ import annotations

from boucle_collector.domain.integrations import FormMapping
from boucle_collector.domain.mapping_revisions import MappingKey, StoredMapping, managed_forms
from boucle_collector.domain.ports import MappingStore
from boucle_runtime.periodic import BackgroundLoop, every


class ManagedMappings:
    def __init__(self, store: MappingStore) -> None:
        self.store = store
        self.version = 0  # changes whenever the cached mappings do
        self._items: dict[MappingKey, StoredMapping] = {}
        self._forms: dict[tuple[str, str], dict[str, FormMapping]] = {}
        self._writes = 0

    @property
    def forms(self) -> dict[tuple[str, str], dict[str, FormMapping]]:
        return self._forms

    def _changed(self) -> None:
        self._forms = managed_forms(list(self._items.values()))
        self.version += 1

    async def refresh(self) -> None:
        """Reload every mapping from the store (raises when it cannot be read)."""
        writes = self._writes
        items = {item.key: item for item in await self.store.all()}
        if writes != self._writes:
            return  # a local write landed meanwhile: this snapshot may predate it
        if items != self._items:  # whole documents: a deleted then re-created mapping
            self._items = items  # starts again at revision 1
            self._changed()

    def remember(self, stored: StoredMapping) -> None:
        """A write of this replica: in force here at once."""
        self._writes += 1
        self._items[stored.key] = stored
        self._changed()

    def forget(self, key: MappingKey) -> None:
        self._writes += 1
        if self._items.pop(key, None) is not None:
            self._changed()

    def refresher(self, interval_seconds: float) -> BackgroundLoop:
        """Re-read every ``interval_seconds``; while the store fails, the last mappings stay."""
        return every(interval_seconds, self.refresh, name="mappings_refresh")
