"""The outbox relay: events stored with the state they record are published afterwards,
then marked published; a crash in between re-publishes them with the same ids."""

from __future__ import annotations

from boucle_contracts.registry import decode_event
from boucle_runtime.kafka import EventSink
from boucle_surveys.domain.ports import SolicitationStore

BATCH = 200


class Relay:
    def __init__(self, *, store: SolicitationStore, publisher: EventSink) -> None:
        self._store = store
        self._publisher = publisher

    async def flush(self) -> int:
        published = 0
        while batch := await self._store.unpublished(BATCH):
            for solicitation_id, events in batch:
                for payload in events:
                    await self._publisher.publish(decode_event(payload))
                await self._store.published(solicitation_id)
                published += len(events)
            if len(batch) < BATCH:
                break
        return published
