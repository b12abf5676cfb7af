"""Erasure and retention in the actions service: the words of complaint cases.

A complaint case keeps what the complainant wrote (its summary, the complaint's subject)
and what staff wrote about it (notes, the answer, the root cause), where a complainant may
be named in clear: staff texts are not pseudonymised. Cases hold no pseudonym; to find a
subject's cases again, :class:`SubjectAwareCaseIntake` notes, before the case is opened,
the case id of each complaint with a ``complainant_ref`` under that pseudonym (the subject
index, ``case_subjects``).

An erasure blanks those texts (``ERASED``) and forgets the index entries; the case stays,
with its dates, status, category and deadlines: indicator 31 counts cases and their
handling times, not words. Retention blanks the texts of cases closed longer ago than the
complaints' period. Late or replayed complaints of an erased subject are blanked again
(``ErasureFollower``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from boucle_actions.domain.cases import case_id_for
from boucle_actions.domain.ports import CaseRepository, DeadlineSettings
from boucle_actions.handlers import CaseIntake
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts.cases.v1 import ComplaintCaseOpened
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_runtime.erasure import Erased, Eraser, ErasureFollower
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)
ERASED = "[effacé]"  # what an erased text reads, in the API, the console and the register


@dataclass(frozen=True, slots=True)
class CaseSubject:
    network_id: str
    subject: str
    case_id: str
    at: datetime


class CaseSubjects(Protocol):
    async def remember(self, entry: CaseSubject) -> None:
        """Idempotent on (network, subject, case)."""
        ...

    async def case_ids(self, *, network_id: str, subject: str) -> list[str]: ...

    async def forget(self, *, network_id: str, subject: str) -> int: ...

    async def forget_cases(self, *, case_ids: Sequence[str]) -> int: ...


class CaseTexts(Protocol):
    async def blank(self, *, network_id: str, case_ids: Sequence[str], now: datetime) -> int:
        """Blank summary, answer, root cause and notes of these cases; how many changed."""
        ...

    async def blank_closed_before(self, *, before: datetime, now: datetime) -> list[str]:
        """Blank the texts of cases closed before ``before`` (not blanked yet); their ids."""
        ...


def subject_of(event: ComplaintReceivedV1 | HazardReportedV1) -> CaseSubject | None:
    if not isinstance(event, ComplaintReceivedV1) or not event.data.complainant_ref:
        return None
    return CaseSubject(
        network_id=event.network_id,
        subject=event.data.complainant_ref,
        case_id=case_id_for(event.id),
        at=event.data.received_at,
    )


class SubjectAwareCaseIntake(CaseIntake):
    """Case intake noting first whose complaint a case answers, and blanking again the case
    of an erased subject's late or replayed complaint."""

    def __init__(
        self,
        *,
        cases: CaseRepository,
        publisher: EventSink,
        deadlines: DeadlineSettings,
        metrics: ActionsMetrics,
        subjects: CaseSubjects,
        erasure: ErasureFollower,
    ) -> None:
        super().__init__(cases=cases, publisher=publisher, deadlines=deadlines, metrics=metrics)
        self._subjects = subjects
        self._erasure = erasure

    async def on_incident(
        self, event: ComplaintReceivedV1 | HazardReportedV1
    ) -> ComplaintCaseOpened:
        entry = subject_of(event)
        if entry is not None:
            await self._subjects.remember(entry)
            if await self._erasure.erased_subjects_of(event):
                # Late or replayed complaint of an erased person: its words must not reach
                # the case, nor the announcement every consumer records.
                event = without_words(event)
        case = await super().on_incident(event)
        await self._erasure.after(event)
        return case


def without_words(event: ComplaintReceivedV1 | HazardReportedV1) -> ComplaintReceivedV1:
    assert isinstance(event, ComplaintReceivedV1)
    data = event.data.model_copy(update={"subject": ERASED, "description": ERASED})
    return event.model_copy(update={"data": data})


def actions_eraser(subjects: CaseSubjects, texts: CaseTexts) -> Eraser:
    async def erase(network_id: str, subject: str, now: datetime) -> Erased:
        ids = await subjects.case_ids(network_id=network_id, subject=subject)
        blanked = await texts.blank(network_id=network_id, case_ids=ids, now=now)
        forgotten = await subjects.forget(network_id=network_id, subject=subject)
        return {"cases_blanked": blanked, "subject_index_entries": forgotten}

    return erase


async def apply_retention(
    subjects: CaseSubjects, texts: CaseTexts, *, complaints_days: int | None, now: datetime
) -> int:
    if complaints_days is None:
        return 0
    before = now - timedelta(days=complaints_days)
    blanked = await texts.blank_closed_before(before=before, now=now)
    await subjects.forget_cases(case_ids=blanked)
    if blanked:
        log.info("case_retention_applied", cases_blanked=len(blanked))
    return len(blanked)


def retention_loop(
    subjects: CaseSubjects,
    texts: CaseTexts,
    *,
    complaints_days: int | None,
    interval_seconds: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackgroundLoop:
    async def step() -> None:
        await apply_retention(subjects, texts, complaints_days=complaints_days, now=clock())

    return every(interval_seconds, step, name="case_retention", at_start=True)
