"""The outbox relay: events are stored in the entity's outbox by the same atomic write as
the change, then published and removed. A crash in between leaves them in the outbox, and
the sweep drains it again with the same deterministic ids, so downstream sees each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from boucle_actions.domain.ports import Entities
from boucle_contracts.registry import AnyEvent, decode_event
from boucle_runtime.kafka import EventSink


@dataclass
class Relay:
    """Publishes what an entity's outbox holds, then removes it."""

    publisher: EventSink

    async def flush(self, store: Entities[Any], entity_id: str, events: Sequence[AnyEvent]) -> None:
        for event in events:
            await self.publisher.publish(event)
        await store.published(
            entity_id=entity_id, events=[e.to_json_bytes().decode() for e in events]
        )

    async def drain(self, store: Entities[Any]) -> int:
        """Publish every outbox left behind (crash between write and publish)."""
        sent = 0
        for entity_id, wire in await store.pending():
            for raw in wire:
                await self.publisher.publish(decode_event(raw.encode()))
            await store.published(entity_id=entity_id, events=wire)
            sent += len(wire)
        return sent
