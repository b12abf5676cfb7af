"""One read-model write: an idempotent upsert of one document. Pure.

A :class:`Write` sets fields, sets others only when it creates the document, increments
counters and adds members to sets. A write may be *guarded*: applied only if the stored
value of a field is lower than the write's (a newer revision, a later evidence sequence
number). Guards make redeliveries harmless: counters are guarded by the event's sequence
number in the evidence log, so an event counted once is never counted again, with no
transaction (FerretDB has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from boucle_contracts.registry import AnyEvent

Document = dict[str, Any]
NEW_ENTITY = {"revision": 0}


@dataclass(frozen=True, slots=True)
class Write:
    collection: str
    key: str
    fields: Document = field(default_factory=dict)
    on_insert: Document = field(default_factory=dict)
    increments: dict[str, int] = field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    newer_than: tuple[str, int] | None = None  # (field, value): only if stored field < value

    def new_document(self) -> Document:
        """The document this write creates when there is none yet."""
        document: Document = {"_id": self.key}
        values: list[tuple[str, Any]] = [
            *self.on_insert.items(),
            *self.fields.items(),
            *self.increments.items(),
            *((path, list(dict.fromkeys(members))) for path, members in self.members.items()),
        ]
        if self.newer_than:
            values.append(self.newer_than)
        for path, value in values:
            set_path(document, path, value)
        return document


def set_path(document: Document, path: str, value: Any) -> None:
    """``document["a"]["b"] = value`` for the dotted path ``a.b``."""
    *parents, last = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[last] = value


def tenant(event: AnyEvent) -> Document:
    """The fields every document carries: whose network and site it belongs to."""
    return {"network_id": event.network_id, "site_id": event.site_id}


def key(event: AnyEvent, *parts: str) -> str:
    """A document's ``_id``: the network, then what identifies it within the network."""
    return "|".join((event.network_id, *parts))
