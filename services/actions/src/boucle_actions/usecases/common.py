"""What every workflow shares: the clock, deterministic event ids, loading an entity of one
network, and the check that guards an idempotent replay of a client ``request_id``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from boucle_actions.domain.ports import ConflictError, Entities

EVENT_NAMESPACE = uuid.UUID("9b2e7c41-6d3a-5f18-a0c4-7e8f9a1b2c3d")
Clock = Callable[[], datetime]
E = TypeVar("E")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def event_id(*parts: object) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, "/".join(str(p) for p in parts)))


class NotFoundError(LookupError):
    """No such entity in this network (HTTP 404)."""


class RequestIdReusedError(ConflictError):
    """A ``request_id`` sent again for another site than the one it was first used for
    (HTTP 409). The stored entity belongs to that other site: it is neither returned nor
    linked to anything."""


async def load(store: Entities[E], network_id: str, entity_id: str, what: str) -> E:
    found = await store.get(network_id=network_id, entity_id=entity_id)
    if found is None:
        raise NotFoundError(f"no {what} {entity_id!r} in network {network_id!r}")
    return found


def check_replay(
    *, stored_site: str | None, asked_site: str | None, request_id: str, what: str
) -> None:
    """Refuse an idempotent replay that found another site's entity.

    Ids derive from network and ``request_id`` only (changing that would make a retry of an
    entity stored before the change create a duplicate), so the same ``request_id`` sent for
    two sites finds one entity: only the site it was made for may get it back. The network
    needs no check here, the id and every read are scoped to it. The message does not name
    the other site.
    """
    if stored_site != asked_site:
        raise RequestIdReusedError(
            f"request_id {request_id!r} is already used for {what} of another site: "
            "send a new request_id"
        )
