"""Comment records: every comment of every response kept once, under an id naming the response."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import InMemoryAggregateStore, InMemoryCommentStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.domain.comment_ids import response_comment_id
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmittedV1, TextAnswer

pytestmark = pytest.mark.unit
EXAMPLE = example_of(SurveyResponseSubmittedV1)


def handler(comments: InMemoryCommentStore) -> InputHandler:
    return InputHandler(
        store=InMemoryAggregateStore(),
        comments=comments,
        classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
        metrics=AnalyzerMetrics(CollectorRegistry()),
    )


def response(number: int, *, comment_id: str = "q-comment") -> SurveyResponseSubmittedV1:
    """A response to the example's form; its comment is named, as the collector names it,
    after the form question it answers: the same in every response."""
    return SurveyResponseSubmittedV1.create(
        data=EXAMPLE.data.model_copy(
            update={
                "response_id": f"typeform:r-{number}",
                "comments": (Comment(comment_id=comment_id, text="La plateforme coupe"),),
            }
        ),
        network_id=EXAMPLE.network_id,
        site_id=EXAMPLE.site_id,
        source="/test",
        event_id=f"e-{number}",
    )


async def test_two_responses_of_a_form_keep_two_comments() -> None:
    comments = InMemoryCommentStore()
    handle = handler(comments).handle

    await handle(response(1), Position("t", 0, 1))
    await handle(response(2), Position("t", 0, 2))

    assert sorted(r.comment_id for r in comments.records.values()) == [
        "typeform:r-1:q-comment",
        "typeform:r-2:q-comment",
    ]
    assert {r.event_id for r in comments.records.values()} == {"e-1", "e-2"}


async def test_the_same_event_twice_keeps_one_comment() -> None:
    comments = InMemoryCommentStore()
    handle = handler(comments).handle

    await handle(response(1), Position("t", 0, 1))
    await handle(response(1), Position("t", 0, 1))  # redelivered after a crash
    await handle(response(1), Position("t", 1, 9))  # published again

    assert [r.comment_id for r in comments.records.values()] == ["typeform:r-1:q-comment"]


async def test_a_comment_id_already_naming_its_response_is_kept() -> None:
    comments = InMemoryCommentStore()

    await handler(comments).handle(EXAMPLE, Position("t", 0, 1))

    [record] = comments.records.values()
    assert record.comment_id == EXAMPLE.data.comments[0].comment_id == "typeform:r-8x2kq9:c1"


async def test_comments_and_free_text_answers_of_one_response_are_kept_apart() -> None:
    comments = InMemoryCommentStore()
    event = response(1)
    answers = (
        *event.data.answers,
        TextAnswer(type="text", question_id="q-free", value="Connexion impossible"),
    )
    event = event.model_copy(update={"data": event.data.model_copy(update={"answers": answers})})

    await handler(comments).handle(event, Position("t", 0, 1))

    assert sorted(r.comment_id for r in comments.records.values()) == [
        "typeform:r-1:q-comment",
        "typeform:r-1:q-free",
    ]


def test_an_id_too_long_to_join_becomes_a_stable_uuid() -> None:
    response_id, question = "typeform:" + "r" * 110, "q-" + "x" * 30

    joined = response_comment_id(response_id, question)

    assert joined.startswith("text:")
    assert len(joined) <= 128
    assert joined == response_comment_id(response_id, question)
    assert joined != response_comment_id(response_id, "q-other")
