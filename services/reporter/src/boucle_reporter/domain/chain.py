"""The evidence log's hash chain, one per network. Pure: hashing and verification.

Each entry holds the event as canonical JSON (sorted keys, no spaces, UTF-8), its sequence
number within the network (1, 2, …), the hash of the previous entry (``GENESIS`` for the
first) and its own hash. Two versions of the link, told apart by the entry's ``v``:

- **v1** (entries without ``v``, appended before erasure existed):
  ``hash = SHA-256(previous hash ‖ canonical JSON)``: the body is needed to check the link,
  so a v1 body can never be erased.
- **v2** (every new entry): ``body_hash = SHA-256(canonical JSON)`` is stored beside the
  body and ``hash = SHA-256(previous hash ‖ body_hash)`` (both as hex text). Erasing the
  body (GDPR: a data subject's request, a retention period) sets it to null and records
  when and why; the link still verifies through ``body_hash``, and a body that is present
  must match it.

A chain switches from v1 to v2 at one sequence number and never back. Editing, removing or
reordering any entry breaks the link to the next one, which :func:`verify_chain` reports;
so does a tail rewritten behind a head signed earlier (``anchors``: sequence number → hash
of heads taken from delivered dossiers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
CURRENT_VERSION = 2
# Fields of an event's data naming a data subject by pseudonym (contracts: feedback,
# training, incidents; privacy: the erasure request itself, erased with the rest): indexed
# on the entry at append time, so erasure is a query.
SUBJECT_FIELDS = ("respondent_ref", "learner_ref", "complainant_ref", "subject_ref")


def canonical_json(document: Any) -> str:
    """One text per document, whatever its key order: what the chain hashes and stores."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(previous_hash: str, body: str) -> str:
    """Version 1 link: over the body itself."""
    return hashlib.sha256(previous_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def entry_hash_v2(previous_hash: str, body_hash: str) -> str:
    """Version 2 link: over the body's hash, so that the body may be erased."""
    return hashlib.sha256((previous_hash + body_hash).encode("ascii")).hexdigest()


def entry_id(network_id: str, seq: int) -> str:
    """Entry ``_id``: two appenders racing for the same sequence number collide on it."""
    return f"{network_id}:{seq}"


def subjects_of(event: Mapping[str, Any]) -> list[str]:
    """The pseudonyms of the data subjects an event (as a JSON document) is about."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return []
    found = (data.get(name) for name in SUBJECT_FIELDS)
    return sorted({value for value in found if isinstance(value, str) and value})


@dataclass(frozen=True, slots=True)
class ChainEntry:
    network_id: str
    seq: int
    event_id: str
    event_type: str
    previous_hash: str
    hash: str
    body: str | None  # None once erased (v2 only)
    version: int = 1
    body_hash: str | None = None  # v2
    erased_at: datetime | None = None
    erasure_reason: str | None = None


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
    erased: int = 0  # entries whose body was erased (not a break)
    signature: dict[str, Any] | None = None  # key_id, algorithm, signed_at, signature

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def report(self) -> dict[str, Any]:
        """JSON-ready: what the API, the command and the dossier say about the chain."""
        report = {
            "network_id": self.network_id,
            "ok": self.ok,
            "entries": self.entries,
            "erased": self.erased,
            "head": {"seq": self.head.seq, "hash": self.head.hash},
            "broken_at": self.broken_at,
            "problem": self.problem,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
        }
        return report | (self.signature or {})

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> Verification:
        verified_at = report.get("verified_at")
        signature = {k: report[k] for k in SIGNATURE_FIELDS if k in report}
        return cls(
            network_id=report["network_id"],
            entries=int(report["entries"]),
            head=ChainHead(int(report["head"]["seq"]), str(report["head"]["hash"])),
            broken_at=report.get("broken_at"),
            problem=report.get("problem"),
            verified_at=datetime.fromisoformat(verified_at) if verified_at else None,
            erased=int(report.get("erased", 0)),
            signature=signature or None,
        )


# What a signature adds to a signed document (see ``domain/signing.py``).
SIGNATURE_FIELDS = ("algorithm", "key_id", "signed_at", "signature")


def seal(
    *,
    network_id: str,
    seq: int,
    previous_hash: str,
    event: dict[str, Any],
    version: int = CURRENT_VERSION,
) -> ChainEntry:
    """The entry that appends ``event`` after an entry whose hash is ``previous_hash``.

    ``version=1`` only to make entries as they were before erasure existed (tests).
    """
    body = canonical_json(event)
    digest = body_digest(body) if version >= CURRENT_VERSION else None
    return ChainEntry(
        network_id=network_id,
        seq=seq,
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        previous_hash=previous_hash,
        hash=entry_hash_v2(previous_hash, digest) if digest else entry_hash(previous_hash, body),
        body=body,
        version=CURRENT_VERSION if digest else 1,
        body_hash=digest,
    )


def erased(entry: ChainEntry, *, at: datetime, reason: str) -> ChainEntry:
    """The entry with its body erased: only v2 entries keep a verifiable link without it."""
    if entry.version < 2:
        raise ValueError(f"entry {entry.seq} is version {entry.version}: its body is its link")
    return replace(entry, body=None, erased_at=at, erasure_reason=reason)


def _link_problem(entry: ChainEntry) -> str | None:  # noqa: PLR0911 - one per kind of break
    if entry.version == 1:
        if entry.body is None:
            return "content of a version 1 entry erased: its link cannot be checked"
        if entry_hash(entry.previous_hash, entry.body) != entry.hash:
            return "content does not match its hash (entry edited)"
        return None
    if entry.version != CURRENT_VERSION:
        return f"unknown entry version {entry.version}"
    if entry.body_hash is None or entry_hash_v2(entry.previous_hash, entry.body_hash) != entry.hash:
        return "body hash does not match the entry's hash (entry edited)"
    if entry.body is None:
        return None if entry.erased_at else "content missing with no record of its erasure"
    if body_digest(entry.body) != entry.body_hash:
        return "content does not match its hash (entry edited)"
    return None


def _problem(entry: ChainEntry, expected_seq: int, previous_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return f"sequence {entry.seq} found where {expected_seq} was expected (entry missing)"
    if entry.previous_hash != previous_hash:
        return "previous hash does not match the hash of the entry before"
    return _link_problem(entry) or _content_problem(entry)


def _content_problem(entry: ChainEntry) -> str | None:
    """The recorded metadata against the content (nothing to compare once erased)."""
    if entry.body is None:
        return None
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
    """Fed the entries in sequence order, one at a time: memory does not grow with the log.

    ``anchors`` (sequence number → hash) are heads signed earlier, taken from delivered
    dossiers: the chain must still hold each of them, or its tail was rewritten.
    """

    def __init__(self, network_id: str, anchors: Mapping[int, str] | None = None) -> None:
        self.network_id = network_id
        self._anchors = dict(anchors or {})
        self._previous, self._count, self._version, self._erased = GENESIS, 0, 1, 0
        self._broken: tuple[int, str] | None = None

    def feed(self, entry: ChainEntry) -> bool:
        """False once a link is broken (stop feeding)."""
        if self._broken:
            return False
        problem = _problem(entry, self._count + 1, self._previous)
        if problem is None and entry.version < self._version:
            problem = f"version {entry.version} entry after a version {self._version} one"
        anchored = self._anchors.get(entry.seq)
        if problem is None and anchored is not None and anchored != entry.hash:
            problem = f"tail rewritten: entry {entry.seq} differs from a signed head"
        if problem:
            self._broken = (entry.seq, problem)
            return False
        self._previous, self._count = entry.hash, self._count + 1
        self._version = entry.version
        self._erased += entry.body is None
        return True

    def result(self, head: ChainHead | None) -> Verification:
        return replace(self._result(head), verified_at=datetime.now(UTC), erased=self._erased)

    def _result(self, head: ChainHead | None) -> Verification:
        last = ChainHead(self._count, self._previous)
        if self._broken:
            return Verification(self.network_id, self._count, last, *self._broken)
        beyond = sorted(seq for seq in self._anchors if seq > self._count)
        if beyond:
            problem = (
                f"tail rewritten: a signed head names entry {beyond[0]}, "
                f"the chain ends at {self._count}"
            )
            return Verification(self.network_id, self._count, last, beyond[0], problem)
        if head is not None and (
            head.seq > self._count or (head.seq == self._count and head.hash != self._previous)
        ):
            problem = f"the chain head names entry {head.seq} with another hash: entries removed"
            return Verification(self.network_id, self._count, last, head.seq, problem)
        return Verification(self.network_id, self._count, last)


def verify_chain(
    network_id: str,
    entries: Iterable[ChainEntry],
    head: ChainHead | None,
    anchors: Mapping[int, str] | None = None,
) -> Verification:
    """Walk the entries in sequence order; report the first broken link."""
    verifier = ChainVerifier(network_id, anchors)
    for entry in entries:
        if not verifier.feed(entry):
            break
    return verifier.result(head)
