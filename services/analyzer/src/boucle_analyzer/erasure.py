"""Erasure and retention in the analyzer: comment records of a data subject, and old ones.

What the analyzer keeps of a person is little: a comment record per free text of their
survey responses and complaints (themes, negativity, word stems, the response's id; never
the text, never the pseudonym: ``adapters.mongo_comments``). Aggregates are counts and sums
over scopes, with no person in them, and stay.

To find a subject's records again, :class:`SubjectAwareInputHandler` notes, before the
event is applied, which comment ids an event with a ``respondent_ref`` or
``complainant_ref`` produced, under that pseudonym (the subject index). An erasure deletes
those records and the index entries; retention deletes survey records older than the
responses' period and complaint records older than the complaints' period, index entries
with them. Late and replayed events of an erased subject are erased again (``ErasureFollower``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from boucle_analyzer.domain.ports import (
    AggregateStore,
    CommentStore,
    Position,
    Receipt,
)
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputEvent, InputHandler, _texts
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_runtime.erasure import Erased, Eraser, ErasureFollower, subjects_named
from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)
SURVEY, COMPLAINT = "survey", "complaint"  # CommentRecord.source


@dataclass(frozen=True, slots=True)
class SubjectEntry:
    """The comment ids one event of one subject produced."""

    network_id: str
    subject: str
    event_id: str
    comment_ids: tuple[str, ...]
    at: datetime
    source: str


class SubjectIndex(Protocol):
    async def remember(self, entry: SubjectEntry) -> None:
        """Idempotent on (network, subject, event)."""
        ...

    async def comment_ids(self, *, network_id: str, subject: str) -> list[str]: ...

    async def forget(self, *, network_id: str, subject: str) -> int: ...

    async def forget_before(self, *, source: str, before: datetime) -> int: ...


class CommentEraser(Protocol):
    async def erase(self, *, network_id: str, comment_ids: Sequence[str]) -> int:
        """Delete these comment records; how many there were."""
        ...

    async def erase_before(self, *, source: str, before: datetime) -> int:
        """Delete the records of ``source`` dated before ``before``; how many."""
        ...


def entries_of(event: InputEvent) -> list[SubjectEntry]:
    """What the subject index keeps of an event: its comment ids under each subject named."""
    subjects = subjects_named(event)
    ids = tuple(comment_id for comment_id, _ in _texts(event))
    if not subjects or not ids:
        return []
    if isinstance(event, SurveyResponseSubmittedV1):
        at, source = event.data.submitted_at, SURVEY
    elif isinstance(event, ComplaintReceivedV1):
        at, source = event.data.received_at, COMPLAINT
    else:
        return []
    return [
        SubjectEntry(event.network_id, subject, event.id, ids, at, source) for subject in subjects
    ]


class SubjectAwareInputHandler(InputHandler):
    """The input handler, noting first whose comments an event holds, and erasing again
    what an erased subject's late or replayed event brought in."""

    def __init__(
        self,
        *,
        store: AggregateStore,
        comments: CommentStore,
        classifier: Classifier,
        metrics: AnalyzerMetrics,
        subjects: SubjectIndex,
        erasure: ErasureFollower,
    ) -> None:
        super().__init__(store=store, comments=comments, classifier=classifier, metrics=metrics)
        self._subjects = subjects
        self._erasure = erasure

    async def handle(self, event: InputEvent, position: Position) -> Receipt:
        # Noted before the records are kept: a crash in between leaves an entry pointing to
        # nothing (harmless), never a record nobody can find.
        for entry in entries_of(event):
            await self._subjects.remember(entry)
        receipt = await super().handle(event, position)
        await self._erasure.after(event)
        return receipt


def analyzer_eraser(subjects: SubjectIndex, comments: CommentEraser) -> Eraser:
    async def erase(network_id: str, subject: str, now: datetime) -> Erased:
        del now  # records are deleted, not marked
        ids = await subjects.comment_ids(network_id=network_id, subject=subject)
        erased = await comments.erase(network_id=network_id, comment_ids=ids)
        forgotten = await subjects.forget(network_id=network_id, subject=subject)
        return {"comment_records": erased, "subject_index_entries": forgotten}

    return erase


async def apply_retention(
    subjects: SubjectIndex,
    comments: CommentEraser,
    *,
    responses_days: int | None,
    complaints_days: int | None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Delete records (and index entries) past their family's period; None keeps forever."""
    now = now or datetime.now(UTC)
    erased: dict[str, int] = {}
    for source, days in ((SURVEY, responses_days), (COMPLAINT, complaints_days)):
        if days is None:
            continue
        before = now - timedelta(days=days)
        erased[source] = await comments.erase_before(source=source, before=before)
        await subjects.forget_before(source=source, before=before)
    if any(erased.values()):
        log.info("comment_retention_applied", **erased)
    return erased


def retention_loop(
    subjects: SubjectIndex,
    comments: CommentEraser,
    *,
    responses_days: int | None,
    complaints_days: int | None,
    interval_seconds: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackgroundLoop:
    async def step() -> None:
        await apply_retention(
            subjects,
            comments,
            responses_days=responses_days,
            complaints_days=complaints_days,
            now=clock(),
        )

    return every(interval_seconds, step, name="comment_retention", at_start=True)
