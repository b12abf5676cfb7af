"""What was sent (never twice for the same item, deadline and address) and who
unsubscribed from what.

The console has no database: the state is one small JSON file, written whole and
atomically (a temporary file renamed). One replica runs the notifier; the unsubscribe pages
of that replica write the same file.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

ALL = "all"
KINDS = ("acknowledge", "answer", "validation", "due")  # the reminders' kinds, as Kind names them


class NotifyState(Protocol):
    async def sent(self, key: str, address: str) -> bool: ...
    async def mark_sent(self, key: str, address: str, at: datetime) -> None: ...
    async def unsubscribed(self, address: str, kind: str) -> bool: ...
    async def unsubscribe(self, address: str, kind: str) -> None: ...
    async def resubscribe(self, address: str, kind: str) -> None: ...


@dataclass
class MemoryState:
    """For unit tests, and for a console run without a state path (forgets on restart)."""

    sent_keys: dict[str, str] = field(default_factory=dict)
    opted_out: dict[str, set[str]] = field(default_factory=dict)

    async def sent(self, key: str, address: str) -> bool:
        return f"{key}|{address.lower()}" in self.sent_keys

    async def mark_sent(self, key: str, address: str, at: datetime) -> None:
        self.sent_keys[f"{key}|{address.lower()}"] = at.isoformat()

    async def unsubscribed(self, address: str, kind: str) -> bool:
        kinds = self.opted_out.get(address.lower(), set())
        return kind in kinds or ALL in kinds

    async def unsubscribe(self, address: str, kind: str) -> None:
        self.opted_out.setdefault(address.lower(), set()).add(kind)

    async def resubscribe(self, address: str, kind: str) -> None:
        """Receive ``kind`` again (and, if every kind was stopped, the other kinds stay so)."""
        kinds = self.opted_out.get(address.lower(), set())
        if ALL in kinds:
            kinds.discard(ALL)
            kinds |= set(KINDS) - {kind}
        kinds.discard(kind)


class FileState:
    """The same, kept in ``path`` (read at each call: the file is small)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()

    def _load(self) -> MemoryState:
        try:
            data: dict[str, Any] = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return MemoryState()
        return MemoryState(
            sent_keys=dict(data.get("sent", {})),
            opted_out={k: set(v) for k, v in data.get("unsubscribed", {}).items()},
        )

    def _save(self, state: MemoryState) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        data = {
            "sent": state.sent_keys,
            "unsubscribed": {k: sorted(v) for k, v in state.opted_out.items()},
        }
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, self._path)

    async def sent(self, key: str, address: str) -> bool:
        return await self._load().sent(key, address)

    async def mark_sent(self, key: str, address: str, at: datetime) -> None:
        async with self._lock:
            state = self._load()
            await state.mark_sent(key, address, at)
            self._save(state)

    async def unsubscribed(self, address: str, kind: str) -> bool:
        return await self._load().unsubscribed(address, kind)

    async def unsubscribe(self, address: str, kind: str) -> None:
        async with self._lock:
            state = self._load()
            await state.unsubscribe(address, kind)
            self._save(state)

    async def resubscribe(self, address: str, kind: str) -> None:
        async with self._lock:
            state = self._load()
            await state.resubscribe(address, kind)
            self._save(state)
