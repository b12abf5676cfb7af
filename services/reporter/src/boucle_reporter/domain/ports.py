"""The reporter's storage, as Protocols (MongoDB in production, in memory in tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from boucle_contracts.registry import AnyEvent
from boucle_reporter.domain.chain import ChainEntry, ChainHead, Verification
from boucle_reporter.domain.projection.write import Write
from boucle_reporter.domain.retention import Erasure

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
    "problems",
    "meetings",
    "names",
    "solicitations",
    "collection_plans",
)
# Read for the whole network whatever the sites of a build (names; network meetings; the
# collection plan; solicitations, as yearly ones belong to no site).
NETWORK_COLLECTIONS = frozenset({"names", "meetings", "collection_plans", "solicitations"})

UNFINISHED = ("queued", "running")


class EvidenceLog(Protocol):
    async def append(self, *, event: AnyEvent) -> tuple[int, bool]:
        """Append the event to its network's chain: (sequence number, newly recorded).

        A redelivered event is not appended again: its first sequence number comes back.
        """
        ...

    async def verify(
        self, *, network_id: str, anchors: Mapping[int, str] | None = None
    ) -> Verification:
        """Walk the network's chain; report the first broken link (and keep the report).

        ``anchors``: sequence number → hash of heads signed earlier, which the chain must
        still hold.
        """
        ...

    async def head(self, *, network_id: str) -> ChainHead:
        """The chain's last entry: a commitment to the whole log, in constant time."""
        ...

    async def last_verification(self, *, network_id: str) -> Verification | None: ...

    def links(self, *, network_id: str, until_seq: int) -> AsyncIterator[ChainEntry]:
        """The network's entries up to ``until_seq``, in sequence order, streamed (the
        dossier's offline verification kit carries their links)."""
        ...

    async def erasures(self, *, network_id: str) -> list[Erasure]:
        """Bodies erased, counted per day and cause (the dossier's evidence section)."""
        ...


@dataclass(frozen=True, slots=True)
class SubjectErasure:
    entries: int  # bodies erased
    version_1: int  # entries about the subject whose body is their link: kept
    complaint_ids: tuple[str, ...]  # complaints of the subject (read model anonymised)


class ErasableEvidence(Protocol):
    async def erase_subject(
        self, *, network_id: str, subject: str, now: datetime
    ) -> SubjectErasure: ...

    async def erase_expired(
        self,
        *,
        types: Sequence[str],
        exclude: bool,
        family: str,
        before: datetime,
        now: datetime,
        limit: int,
    ) -> int:
        """Erase up to ``limit`` bodies of ``types`` (every other type if ``exclude``)
        older than ``before``; how many were erased."""
        ...


class PersonFields(Protocol):
    async def anonymise_complaints(
        self, *, network_id: str, complaint_ids: Sequence[str], now: datetime
    ) -> int:
        """Blank who complained and what they wrote; keep dates, categories, counts."""
        ...


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
