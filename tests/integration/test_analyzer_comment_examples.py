"""Every comment of every response kept, and cited by degradations, on a real FerretDB/MongoDB.

The collector names a survey comment after the form question it answers, so every response
to a form carries the same comment id. The handler, the MongoDB stores and the detection
runner together must still keep one record per response and name some of them as examples
of a degradation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.adapters.mongo_comments import MongoCommentStore
from boucle_analyzer.adapters.mongo_degradations import MongoDegradationStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.detection_runner import DetectionRunner
from boucle_analyzer.domain.detection import DetectionConfig
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    Comment,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.registry import AnyEvent
from boucle_contracts.signals.v1 import DegradationDetectedV1

pytestmark = pytest.mark.integration
Client = AsyncMongoClient[dict[str, Any]]
NETWORK = "net"
QUESTION = "q-comment"  # the comment's id in every response, as the collector sets it
START = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)
WEEKS, BAD_FROM = 5, 4
GOOD = [5, 5, 5, 4, 4, 4, 4, 4, 3, 4]
BAD = [1, 2, 1, 2, 1, 2, 1, 2, 2, 1]
# Small samples, so that a few hundred events on FerretDB are enough to detect a drop.
CONFIG = DetectionConfig(
    windows=(1,), baseline_weeks=4, min_current_ratings=10, min_baseline_ratings=20
)


class Sink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


def _response(site: str, week: int, number: int, rating: int) -> SurveyResponseSubmittedV1:
    text = "La plateforme ne fonctionne pas" if rating <= 2 else "Très bonne formation"
    return SurveyResponseSubmittedV1.create(
        data=SurveyResponseSubmitted(
            response_id=f"r-{site}-{week}-{number}",
            survey_id="s",
            survey_kind=SurveyKind.HOT,
            respondent_role=RespondentRole.LEARNER,
            submitted_at=START + week * WEEK + timedelta(hours=number),
            channel="api",
            training=TrainingRef(),
            answers=(ScaleAnswer(type="scale", question_id="q", value=rating),),
            comments=(Comment(comment_id=QUESTION, text=text),),
        ),
        network_id=NETWORK,
        site_id=site,
        source="/test",
        event_id=f"e-{site}-{week}-{number}",
    )


def _events() -> list[SurveyResponseSubmittedV1]:
    weeks = [
        _response(site, week, number, rating)
        for week in range(WEEKS)
        for site in ("lyon", "paris", "lille")
        for number, rating in enumerate(BAD if site == "lyon" and week >= BAD_FROM else GOOD)
    ]
    # Detection runs in data time: a week is evaluated once later data shows it complete.
    return [*weeks, _response("paris", WEEKS + 1, 0, 4)]


@pytest.fixture
async def client(mongodb_uri: str, isolation: str) -> AsyncIterator[Client]:
    client: Client = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.drop_database(f"analyzer_{isolation}")
    await client.close()


async def test_every_response_keeps_its_comment_and_a_degradation_cites_some(
    client: Client, isolation: str
) -> None:
    database = f"analyzer_{isolation}"
    metrics = AnalyzerMetrics(CollectorRegistry())
    store = MongoAggregateStore(client, database)
    comments = MongoCommentStore(client, database)
    degradations = MongoDegradationStore(client, database)
    await store.prepare()
    await comments.create_indexes()
    await degradations.create_indexes()
    handler = InputHandler(
        store=store,
        comments=comments,
        classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
        metrics=metrics,
    )
    events = _events()
    for offset, event in enumerate(events):
        await handler.handle(event, Position("boucle.feedback.v1", 0, offset))
    await handler.handle(events[-1], Position("boucle.feedback.v1", 0, len(events) - 1))  # again
    sink = Sink()
    runner = DetectionRunner(
        figures=store,
        degradations=degradations,
        comments=comments,
        publisher=sink,
        metrics=metrics,
        config=CONFIG,
        clock=lambda: START + (WEEKS + 1) * WEEK,
    )
    while await runner.run_once():
        pass

    kept = client[database]["comments"]
    assert await kept.count_documents({"network_id": NETWORK}) == len(events)
    detected = [
        e.data
        for e in sink.events
        if isinstance(e, DegradationDetectedV1) and e.data.scope.site_id == "lyon"
    ]
    assert detected, [e.type for e in sink.events]
    examples = detected[0].example_comment_ids
    assert len(set(examples)) == 3, examples
    for comment_id in examples:  # each names a degraded response and the question
        assert comment_id.startswith(f"r-lyon-{BAD_FROM}-"), comment_id
        assert comment_id.endswith(f":{QUESTION}"), comment_id
        document = await kept.find_one({"_id": f"{NETWORK}|{comment_id}"})
        assert document is not None
        assert document["negative"]


async def test_records_kept_under_the_former_ids_are_still_read(
    client: Client, isolation: str
) -> None:
    # Written before comments were kept per response: one per form question and network.
    database = f"analyzer_{isolation}"
    week = START.replace(hour=0)
    await client[database]["comments"].insert_one(
        {
            "_id": f"{NETWORK}|{QUESTION}",
            "comment_id": QUESTION,
            "network_id": NETWORK,
            "scope_keys": [f"{NETWORK}/level:network"],
            "at": week + timedelta(hours=1),
            "source": "survey",
            "themes": ["platform"],
            "negative": True,
            "stems": ["plateform"],
            "event_id": "e-old",
        }
    )
    comments = MongoCommentStore(client, database)
    await comments.create_indexes()
    handler = InputHandler(
        store=MongoAggregateStore(client, database),
        comments=comments,
        classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
        metrics=AnalyzerMetrics(CollectorRegistry()),
    )
    await handler.handle(_response("lyon", 0, 2, 1), Position("t", 0, 1))

    found = await comments.examples(
        network_id=NETWORK,
        scope_key=f"{NETWORK}/level:network",
        start=week,
        end=week + WEEK,
        limit=10,
    )
    stems, total = await comments.stem_counts(
        network_id=NETWORK, scope_key=f"{NETWORK}/level:network", start=week, end=week + WEEK
    )

    assert [r.comment_id for r in found] == [QUESTION, f"r-lyon-0-2:{QUESTION}"]
    assert (total, stems["plateform"]) == (2, 2)
