"""The reporter's storage, as Protocols (MongoDB in production, in memory in tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from boucle_contracts.registry import AnyEvent
from boucle_reporter.domain.chain import ChainHead, Verification
from boucle_reporter.domain.projection import Write

Document = dict[str, Any]
COLLECTIONS = (
    "sites",
    "analyses",
    "counts",
    "complaints",
    "incidents",
    "cases",
    "actions",
    "degradations",
)

UNFINISHED = ("queued", "running")


class EvidenceLog(Protocol):
    async def append(self, *, event: AnyEvent) -> tuple[int, bool]:
        """Append the event to its network's chain: (sequence number, newly recorded).

        A redelivered event is not appended again: its first sequence number comes back.
        """
        ...

    async def verify(self, *, network_id: str) -> Verification:
        """Walk the network's chain; report the first broken link (and keep the report)."""
        ...

    async def head(self, *, network_id: str) -> ChainHead:
        """The chain's last entry: a commitment to the whole log, in constant time."""
        ...

    async def last_verification(self, *, network_id: str) -> Verification | None: ...


class ReadModel(Protocol):
    async def apply(self, writes: Sequence[Write]) -> None: ...

    def documents(
        self,
        collection: str,
        *,
        network_id: str,
        sites: Sequence[str] = (),
        month_from: str | None = None,
        month_to: str | None = None,
    ) -> AsyncIterator[Document]:
        """Documents of a network (of some sites; with ``month`` in [from, to] if given)."""
        ...


@dataclass(slots=True)
class Build:
    """A requested dossier de preuves: its state survives restarts."""

    build_id: str
    network_id: str
    start: str
    end: str
    sites: list[str]
    language: str
    status: str  # queued, running, done, failed
    requested_at: datetime
    progress: float = 0.0
    step: str = ""
    finished_at: datetime | None = None
    error: str | None = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    archive: str | None = None  # file name of the zip, once done
    sha256: str | None = None
    size: int | None = None


class BuildStore(Protocol):
    async def save(self, build: Build) -> None: ...

    async def get(self, build_id: str) -> Build | None: ...

    async def recent(self, *, network_id: str, limit: int = 20) -> list[Build]: ...

    async def unfinished(self) -> list[Build]:
        """Queued or running builds (a restart resumes them)."""
        ...
