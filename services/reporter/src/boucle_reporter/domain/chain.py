"""The evidence log's hash chain, one per network. Pure: hashing and verification.

Each entry holds the event as canonical JSON (sorted keys, no spaces, UTF-8), its sequence
number within the network (1, 2, …), the hash of the previous entry (``GENESIS`` for the
first) and its own hash: ``SHA-256(previous hash ‖ canonical JSON)``. Editing, removing or
reordering any entry breaks the link to the next one, which :func:`verify_chain` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(document: Any) -> str:
    """One text per document, whatever its key order: what the chain hashes and stores."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(previous_hash: str, body: str) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def entry_id(network_id: str, seq: int) -> str:
    """Entry ``_id``: two appenders racing for the same sequence number collide on it."""
    return f"{network_id}:{seq}"


@dataclass(frozen=True, slots=True)
class ChainEntry:
    network_id: str
    seq: int
    event_id: str
    event_type: str
    previous_hash: str
    hash: str
    body: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True, slots=True)
class Verification:
    network_id: str
    entries: int
    head: ChainHead
    broken_at: int | None = None
    problem: str | None = None

    verified_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def report(self) -> dict[str, Any]:
        """JSON-ready: what the API, the command and the dossier say about the chain."""
        return {
            "network_id": self.network_id,
            "ok": self.ok,
            "entries": self.entries,
            "head": {"seq": self.head.seq, "hash": self.head.hash},
            "broken_at": self.broken_at,
            "problem": self.problem,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
        }

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> Verification:
        verified_at = report.get("verified_at")
        return cls(
            network_id=report["network_id"],
            entries=int(report["entries"]),
            head=ChainHead(int(report["head"]["seq"]), str(report["head"]["hash"])),
            broken_at=report.get("broken_at"),
            problem=report.get("problem"),
            verified_at=datetime.fromisoformat(verified_at) if verified_at else None,
        )


def seal(*, network_id: str, seq: int, previous_hash: str, event: dict[str, Any]) -> ChainEntry:
    """The entry that appends ``event`` after an entry whose hash is ``previous_hash``."""
    body = canonical_json(event)
    return ChainEntry(
        network_id=network_id,
        seq=seq,
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        previous_hash=previous_hash,
        hash=entry_hash(previous_hash, body),
        body=body,
    )


def _problem(  # noqa: PLR0911 - one return per kind of broken link
    entry: ChainEntry, expected_seq: int, previous_hash: str
) -> str | None:
    if entry.seq != expected_seq:
        return f"sequence {entry.seq} found where {expected_seq} was expected (entry missing)"
    if entry.previous_hash != previous_hash:
        return "previous hash does not match the hash of the entry before"
    if entry_hash(entry.previous_hash, entry.body) != entry.hash:
        return "content does not match its hash (entry edited)"
    try:
        event = json.loads(entry.body)
    except json.JSONDecodeError:
        return "content is not JSON"
    if event.get("id") != entry.event_id or event.get("type") != entry.event_type:
        return "event id or type differ from the recorded content"
    if event.get("networkid") != entry.network_id:
        return "event belongs to another network"
    return None


class ChainVerifier:
    """Fed the entries in sequence order, one at a time: memory does not grow with the log."""

    def __init__(self, network_id: str) -> None:
        self.network_id = network_id
        self._previous, self._count = GENESIS, 0
        self._broken: tuple[int, str] | None = None

    def feed(self, entry: ChainEntry) -> bool:
        """False once a link is broken (stop feeding)."""
        if self._broken:
            return False
        problem = _problem(entry, self._count + 1, self._previous)
        if problem:
            self._broken = (entry.seq, problem)
            return False
        self._previous, self._count = entry.hash, self._count + 1
        return True

    def result(self, head: ChainHead | None) -> Verification:
        return replace(self._result(head), verified_at=datetime.now(UTC))

    def _result(self, head: ChainHead | None) -> Verification:
        last = ChainHead(self._count, self._previous)
        if self._broken:
            return Verification(self.network_id, self._count, last, *self._broken)
        if head is not None and (
            head.seq > self._count or (head.seq == self._count and head.hash != self._previous)
        ):
            problem = f"the chain head names entry {head.seq} with another hash: entries removed"
            return Verification(self.network_id, self._count, last, head.seq, problem)
        return Verification(self.network_id, self._count, last)


def verify_chain(
    network_id: str, entries: Iterable[ChainEntry], head: ChainHead | None
) -> Verification:
    """Walk the entries in sequence order; report the first broken link."""
    verifier = ChainVerifier(network_id)
    for entry in entries:
        if not verifier.feed(entry):
            break
    return verifier.result(head)
