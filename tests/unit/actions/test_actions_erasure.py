"""Erasure and retention in actions: a complainant's case loses its words, keeps its dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from boucle_actions.adapters.memory_erasure import InMemoryCaseSubjects, InMemoryCaseTexts
from boucle_actions.domain.cases import Case, case_id_for, transition_case
from boucle_actions.erasure import (
    ERASED,
    SubjectAwareCaseIntake,
    actions_eraser,
    apply_retention,
)
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts.cases.v1 import CaseStatus, ComplaintCaseOpened
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequested, SubjectErasureRequestedV1
from boucle_runtime.erasure import ErasureFollower, InMemoryErasedSubjects
from tests.unit.actions.test_actions_handlers import FixedDeadlines, Sink

pytestmark = pytest.mark.unit
COMPLAINT = example_of(ComplaintReceivedV1)
NETWORK = COMPLAINT.network_id
LEARNER, OTHER = "lrn-8842", "lrn-1234"
AT = COMPLAINT.data.received_at
NOTE = "Appelé Mme Jeanne Dupont au 06 12 34 56 78"


class StoredCases:
    """CaseRepository storing cases as the Mongo repository does: the case's model dump."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.announced: set[str] = set()

    async def open(
        self, *, case: ComplaintCaseOpened, network_id: str, site_id: str | None
    ) -> None:
        opened = Case.opened(case, network_id=network_id, site_id=site_id)
        self.documents.setdefault(case.case_id, opened.model_dump())

    async def unannounced(self, *, case_id: str) -> bool:
        return case_id not in self.announced

    async def mark_announced(self, *, case_id: str) -> None:
        self.announced.add(case_id)

    def answer(self, case_id: str) -> None:
        """Staff acknowledge, analyse and answer, naming the complainant in clear."""
        case = Case.model_validate(self.documents[case_id])
        case, _ = transition_case(
            case, CaseStatus.ACKNOWLEDGED, actor="usr-qualite", at=AT, note=NOTE
        )
        case, _ = transition_case(
            case, CaseStatus.ANALYSED, actor="usr-qualite", at=AT, root_cause="Coupures"
        )
        case, _ = transition_case(
            case,
            CaseStatus.ANSWERED,
            actor="usr-qualite",
            at=AT,
            answer="Madame Dupont, nous avons changé d'hébergeur.",
        )
        self.documents[case_id] = case.model_dump()


class Actions:
    def __init__(self) -> None:
        self.cases = StoredCases()
        self.subjects = InMemoryCaseSubjects()
        self.texts = InMemoryCaseTexts(self.cases.documents)
        self.erasure = ErasureFollower(
            erase=actions_eraser(self.subjects, self.texts),
            erased=InMemoryErasedSubjects(),
            service="actions",
        )
        self.sink = Sink()
        self.intake = SubjectAwareCaseIntake(
            cases=self.cases,
            publisher=self.sink,
            deadlines=FixedDeadlines(),
            metrics=ActionsMetrics(CollectorRegistry()),
            subjects=self.subjects,
            erasure=self.erasure,
        )


def complaint(number: int, of: str, *, at: datetime = AT) -> ComplaintReceivedV1:
    return ComplaintReceivedV1.create(
        data=COMPLAINT.data.model_copy(
            update={"complaint_id": f"rec-{number}", "complainant_ref": of, "received_at": at}
        ),
        network_id=NETWORK,
        site_id=COMPLAINT.site_id,
        source="/test",
        event_id=f"e-{number}",
        time=at,
    )


def request(of: str) -> SubjectErasureRequestedV1:
    return SubjectErasureRequestedV1.create(
        data=SubjectErasureRequested(
            request_id="era-1", subject_ref=of, requested_at=AT + timedelta(days=60)
        ),
        network_id=NETWORK,
        source="/test",
    )


async def test_erasure_blanks_the_words_of_the_subjects_cases_and_keeps_their_handling() -> None:
    actions = Actions()
    await actions.intake.on_incident(complaint(1, LEARNER))
    await actions.intake.on_incident(complaint(2, OTHER))
    await actions.intake.on_incident(example_of(HazardReportedV1))
    mine, theirs = case_id_for("e-1"), case_id_for("e-2")
    actions.cases.answer(mine)
    actions.cases.answer(theirs)
    before = dict(actions.cases.documents[mine])

    await actions.erasure.after(request(LEARNER))

    erased = actions.cases.documents[mine]
    assert erased["summary"] == ERASED
    assert erased["answer"] == ERASED
    assert erased["root_cause"] == ERASED
    assert [h["note"] for h in erased["history"]] == [None, ERASED, None, None]
    assert "Dupont" not in repr(erased)
    assert erased["revision"] == before["revision"] + 1
    for kept in ("status", "opened_at", "answered_at", "category", "source_ref"):
        assert erased[kept] == before[kept]
    assert [h["to_status"] for h in erased["history"]] == [
        h["to_status"] for h in before["history"]
    ]
    assert Case.model_validate(erased).status is CaseStatus.ANSWERED
    assert "Dupont" in repr(actions.cases.documents[theirs])
    assert actions.subjects.entries.keys() == {(NETWORK, OTHER, theirs)}


async def test_a_late_complaint_of_an_erased_subject_opens_a_case_without_its_words() -> None:
    actions = Actions()
    await actions.erasure.after(request(LEARNER))

    await actions.intake.on_incident(complaint(3, LEARNER))

    case = actions.cases.documents[case_id_for("e-3")]
    assert case["summary"] == ERASED
    assert case["status"] == CaseStatus.RECEIVED
    [announcement] = actions.sink.announcements()  # what every consumer records
    assert announcement.data.summary == ERASED


async def test_retention_blanks_cases_closed_longer_ago_than_the_period() -> None:
    actions = Actions()
    await actions.intake.on_incident(complaint(1, LEARNER))
    await actions.intake.on_incident(complaint(2, OTHER))
    old, recent = case_id_for("e-1"), case_id_for("e-2")
    actions.cases.documents[old]["closed_at"] = AT
    actions.cases.documents[recent]["closed_at"] = AT + timedelta(days=400)

    blanked = await apply_retention(
        actions.subjects, actions.texts, complaints_days=365, now=AT + timedelta(days=366)
    )

    assert blanked == 1
    assert actions.cases.documents[old]["summary"] == ERASED
    assert actions.cases.documents[recent]["summary"] == COMPLAINT.data.subject
    assert actions.subjects.entries.keys() == {(NETWORK, OTHER, recent)}
    now = datetime.now(UTC)
    assert (
        await apply_retention(actions.subjects, actions.texts, complaints_days=None, now=now) == 0
    )
