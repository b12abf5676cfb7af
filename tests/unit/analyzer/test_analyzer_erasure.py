"""Erasure and retention in the analyzer: a subject's comment records go, figures stay."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import InMemoryAggregateStore, InMemoryCommentStore
from boucle_analyzer.adapters.memory_erasure import InMemoryCommentEraser, InMemorySubjectIndex
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.erasure import SubjectAwareInputHandler, analyzer_eraser, apply_retention
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequested, SubjectErasureRequestedV1
from boucle_runtime.erasure import ErasureFollower, InMemoryErasedSubjects

pytestmark = pytest.mark.unit
NETWORK = example_of(SurveyResponseSubmittedV1).network_id
LEARNER, OTHER = "lrn-8842", "lrn-1234"
AT = datetime(2025, 3, 12, 9, tzinfo=UTC)


class Analyzer:
    def __init__(self) -> None:
        self.aggregates = InMemoryAggregateStore()
        self.comments = InMemoryCommentStore()
        self.subjects = InMemorySubjectIndex()
        self.eraser = InMemoryCommentEraser(self.comments)
        self.erasure = ErasureFollower(
            erase=analyzer_eraser(self.subjects, self.eraser),
            erased=InMemoryErasedSubjects(),
            service="analyzer",
        )
        self.handler = SubjectAwareInputHandler(
            store=self.aggregates,
            comments=self.comments,
            classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
            metrics=AnalyzerMetrics(CollectorRegistry()),
            subjects=self.subjects,
            erasure=self.erasure,
        )
        self.offset = 0

    async def take(self, event: SurveyResponseSubmittedV1 | ComplaintReceivedV1) -> None:
        self.offset += 1
        await self.handler.handle(event, Position("t", 0, self.offset))

    def comment_ids(self) -> set[str]:
        return {record.comment_id for record in self.comments.records.values()}


def response(number: int, of: str, *, at: datetime = AT) -> SurveyResponseSubmittedV1:
    example = example_of(SurveyResponseSubmittedV1)
    return SurveyResponseSubmittedV1.create(
        data=example.data.model_copy(
            update={
                "response_id": f"r-{number}",
                "respondent_ref": of,
                "anonymous": False,
                "submitted_at": at,
                "comments": (Comment(comment_id="c", text="La plateforme coupe sans arrêt"),),
            }
        ),
        network_id=NETWORK,
        site_id=example.site_id,
        source="/test",
        event_id=f"e-{number}",
        time=at,
    )


def complaint(of: str, *, at: datetime = AT) -> ComplaintReceivedV1:
    example = example_of(ComplaintReceivedV1)
    return ComplaintReceivedV1.create(
        data=example.data.model_copy(update={"complainant_ref": of, "received_at": at}),
        network_id=NETWORK,
        site_id=example.site_id,
        source="/test",
        event_id="e-complaint",
        time=at,
    )


def request(of: str, *, at: datetime) -> SubjectErasureRequestedV1:
    return SubjectErasureRequestedV1.create(
        data=SubjectErasureRequested(request_id="era-1", subject_ref=of, requested_at=at),
        network_id=NETWORK,
        source="/test",
    )


async def test_erasure_deletes_the_subjects_comment_records_and_keeps_the_figures() -> None:
    analyzer = Analyzer()
    await analyzer.take(response(1, LEARNER))
    await analyzer.take(response(2, OTHER))
    await analyzer.take(complaint(LEARNER))
    figures_before = copy.deepcopy(analyzer.aggregates.aggregates)

    await analyzer.erasure.after(request(LEARNER, at=AT + timedelta(days=30)))

    assert analyzer.comment_ids() == {"r-2:c"}
    assert await analyzer.subjects.comment_ids(network_id=NETWORK, subject=LEARNER) == []
    assert LEARNER not in repr(analyzer.subjects.entries)
    assert analyzer.aggregates.aggregates == figures_before
    assert figures_before  # the figures counted the erased person, and still do


async def test_a_late_response_of_an_erased_subject_leaves_no_record() -> None:
    analyzer = Analyzer()
    await analyzer.erasure.after(request(LEARNER, at=AT + timedelta(days=30)))

    await analyzer.take(response(3, LEARNER, at=AT))
    await analyzer.take(response(4, LEARNER, at=AT + timedelta(days=31)))  # said afterwards

    assert analyzer.comment_ids() == {"r-4:c"}


async def test_retention_deletes_records_past_their_familys_period() -> None:
    analyzer = Analyzer()
    await analyzer.take(response(1, LEARNER, at=AT))
    await analyzer.take(response(2, OTHER, at=AT + timedelta(days=400)))
    await analyzer.take(complaint(OTHER, at=AT))

    erased = await apply_retention(
        analyzer.subjects,
        analyzer.eraser,
        responses_days=365,
        complaints_days=1825,
        now=AT + timedelta(days=366),
    )

    assert erased == {"survey": 1, "complaint": 0}
    assert analyzer.comment_ids() == {"r-2:c", example_of(ComplaintReceivedV1).data.complaint_id}
    assert await analyzer.subjects.comment_ids(network_id=NETWORK, subject=LEARNER) == []
