"""A data subject's erasure, the same way in every service that keeps data about people.

The collector publishes ``SubjectErasureRequestedV1`` (contracts, privacy family) on
``boucle.privacy.v1``; each consuming service gives :class:`ErasureFollower` the function
that erases what it holds of one subject (its own domain), and calls
:meth:`ErasureFollower.after` from its subscriber once an event is persisted:

- on an erasure request it records the subject as erased (a digest of network and
  pseudonym, never the pseudonym: see ``subject_digest``), erases, and completes the record
  with what was erased: the service's receipt of the request;
- on any other event naming a subject already erased (``respondent_ref``, ``learner_ref``,
  ``complainant_ref``) and dated no later than the request, it erases again. Topics carry
  no order between them, and a consumer that replays them (a new group, a rebuilt
  database) meets old responses after their erasure: they must not come back.

Erasure is idempotent, and the subscriber acks only after ``after`` returned, so a crash
in between replays the whole step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from boucle_contracts.privacy.v1 import (
    SUBJECT_FIELDS,
    SubjectErasureRequestedV1,
    subject_digest,
)
from boucle_contracts.registry import AnyEvent
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
Document = dict[str, Any]
# What one service erased for one subject: counts per kind of record, no content.
Erased = Mapping[str, int]
# The service's erasure of one subject: (network_id, subject_ref, now) -> counts.
Eraser = Callable[[str, str, datetime], Awaitable[Erased]]
COLLECTION = "erased_subjects"


@dataclass(frozen=True, slots=True)
class ErasureReceipt:
    """A service's record of one request: no pseudonym, only its digest."""

    digest: str
    network_id: str
    request_id: str
    requested_at: datetime
    erased_at: datetime | None = None
    erased: Mapping[str, int] = field(default_factory=dict)


class ErasedSubjects(Protocol):
    """The subjects erased in this service, by digest, with the latest request's date."""

    async def record(self, receipt: ErasureReceipt) -> None:
        """Keep (or replace, for a later request) the receipt of ``receipt.digest``."""
        ...

    async def requested_at(self, digest: str) -> datetime | None: ...

    async def receipts(self, network_id: str) -> list[ErasureReceipt]: ...


def subjects_named(event: AnyEvent) -> list[str]:
    """The pseudonyms of the data subjects an input event names."""
    found = (getattr(event.data, name, None) for name in SUBJECT_FIELDS)
    return sorted({value for value in found if isinstance(value, str) and value})


def _aware(value: datetime) -> datetime:
    # MongoDB hands dates back naive (UTC): compare them as aware ones.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ErasureFollower:
    """Carries out erasure requests in one service, and keeps erased subjects erased."""

    def __init__(
        self,
        *,
        erase: Eraser,
        erased: ErasedSubjects,
        service: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._erase = erase
        self._erased = erased
        self._service = service
        self._clock = clock

    async def after(self, event: AnyEvent) -> None:
        """To call once ``event`` is persisted (an erasure request, or any input event)."""
        if isinstance(event, SubjectErasureRequestedV1):
            await self.on_request(event)
            return
        for subject in await self.erased_subjects_of(event):
            erased = await self._erase(event.network_id, subject, self._clock())
            log.info(
                "late_event_of_erased_subject",
                service=self._service,
                event_id=event.id,
                **dict(erased),
            )

    async def erased_subjects_of(self, event: AnyEvent) -> list[str]:
        """The subjects ``event`` names whose erasure was requested after it: a service
        that would pass their words on (in an event of its own) leaves them out."""
        erased = []
        for subject in subjects_named(event):
            requested = await self._erased.requested_at(subject_digest(event.network_id, subject))
            if requested is not None and _aware(event.time) <= _aware(requested):
                erased.append(subject)
        return erased

    async def on_request(self, event: SubjectErasureRequestedV1) -> ErasureReceipt:
        request = event.data
        receipt = ErasureReceipt(
            digest=subject_digest(event.network_id, request.subject_ref),
            network_id=event.network_id,
            request_id=request.request_id,
            requested_at=request.requested_at,
        )
        # Recorded before erasing: an event persisted meanwhile is caught by ``after``.
        await self._erased.record(receipt)
        now = self._clock()
        erased = await self._erase(event.network_id, request.subject_ref, now)
        done = ErasureReceipt(
            digest=receipt.digest,
            network_id=receipt.network_id,
            request_id=receipt.request_id,
            requested_at=receipt.requested_at,
            erased_at=now,
            erased=dict(erased),
        )
        await self._erased.record(done)
        log.info(
            "subject_erasure_done",
            service=self._service,
            network_id=event.network_id,
            request_id=request.request_id,
            **dict(erased),
        )
        return done


class InMemoryErasedSubjects:
    """For unit tests."""

    def __init__(self) -> None:
        self.by_digest: dict[str, ErasureReceipt] = {}

    async def record(self, receipt: ErasureReceipt) -> None:
        current = self.by_digest.get(receipt.digest)
        if current is None or receipt.requested_at >= current.requested_at:
            self.by_digest[receipt.digest] = receipt

    async def requested_at(self, digest: str) -> datetime | None:
        found = self.by_digest.get(digest)
        return None if found is None else found.requested_at

    async def receipts(self, network_id: str) -> list[ErasureReceipt]:
        return [r for r in self.by_digest.values() if r.network_id == network_id]


class MongoErasedSubjects:
    """One document per erased subject, ``_id`` its digest; one single-document write each."""

    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._collection = client[database][COLLECTION]

    async def record(self, receipt: ErasureReceipt) -> None:
        fields = {
            "network_id": receipt.network_id,
            "request_id": receipt.request_id,
            "requested_at": receipt.requested_at,
            "erased_at": receipt.erased_at,
            "erased": dict(receipt.erased),
        }
        # A later request of the same subject moves the date on; an older one does not.
        await self._collection.update_one(
            {"_id": receipt.digest, "requested_at": {"$lte": receipt.requested_at}},
            {"$set": fields},
        )
        if await self._collection.count_documents({"_id": receipt.digest}, limit=1):
            return
        try:
            await self._collection.insert_one({"_id": receipt.digest, **fields})
        except DuplicateKeyError:  # recorded meanwhile by another consumer: it stands
            return

    async def requested_at(self, digest: str) -> datetime | None:
        found = await self._collection.find_one({"_id": digest}, {"requested_at": 1})
        return None if found is None else _aware(found["requested_at"])

    async def receipts(self, network_id: str) -> list[ErasureReceipt]:
        return [
            ErasureReceipt(
                digest=doc["_id"],
                network_id=doc["network_id"],
                request_id=doc["request_id"],
                requested_at=_aware(doc["requested_at"]),
                erased_at=None if doc.get("erased_at") is None else _aware(doc["erased_at"]),
                erased=dict(doc.get("erased") or {}),
            )
            async for doc in self._collection.find({"network_id": network_id})
        ]
