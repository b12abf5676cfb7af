"""From input events to degradation events: handler, stores, detection loop, re-runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import (
    InMemoryAggregateStore,
    InMemoryCommentStore,
    InMemoryDegradationStore,
    InMemoryFigureReader,
)
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.detection_runner import DetectionRunner
from boucle_analyzer.domain.detection import DetectionConfig
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.common import RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    Comment,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
    TextAnswer,
)
from boucle_contracts.incidents.v1 import ComplaintReceived, ComplaintReceivedV1, ReceptionChannel
from boucle_contracts.registry import AnyEvent
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1, Metric

pytestmark = pytest.mark.unit
START = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)
GOOD = [5] * 12 + [4] * 12 + [3] * 4 + [2] * 2  # 30 ratings, mean 4.13
BAD = [5] * 4 + [4] * 8 + [3] * 9 + [2] * 6 + [1] * 3  # 30 ratings, mean 3.17


class Sink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


def _response(
    site: str, week: int, number: int, rating: int, comment_id: str | None = None
) -> SurveyResponseSubmittedV1:
    """``comment_id``: the same for every response (as the collector names a comment after
    its form question); by default one of its own."""
    degraded = rating <= 2
    comments = (
        (
            Comment(
                comment_id=comment_id or f"c-{site}-{week}-{number}",
                text="La plateforme ne fonctionne pas",
            ),
        )
        if degraded
        else ()
    )
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
            comments=comments,
        ),
        network_id="net",
        site_id=site,
        source="/test",
        event_id=f"e-{site}-{week}-{number}",
    )


class World:
    def __init__(self, comment_id: str | None = None) -> None:
        self.comment_id = comment_id
        self.metrics = AnalyzerMetrics(CollectorRegistry())
        self.store = InMemoryAggregateStore()
        self.comments = InMemoryCommentStore()
        self.degradations = InMemoryDegradationStore()
        self.sink = Sink()
        self.handler = InputHandler(
            store=self.store,
            comments=self.comments,
            classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
            metrics=self.metrics,
        )
        self.offset = 0

    def runner(self, now: datetime) -> DetectionRunner:
        return DetectionRunner(
            figures=InMemoryFigureReader(self.store),
            degradations=self.degradations,
            comments=self.comments,
            publisher=self.sink,
            metrics=self.metrics,
            config=DetectionConfig(),
            max_weeks_per_run=4,
            clock=lambda: now,
        )

    async def feed(self, weeks: range, bad_from: int) -> None:
        for week in weeks:
            for site in ("lyon", "paris", "lille", "nantes"):
                ratings = BAD if site == "lyon" and week >= bad_from else GOOD
                for number, rating in enumerate(ratings):
                    self.offset += 1
                    await self.handler.handle(
                        _response(site, week, number, rating, self.comment_id),
                        Position("t", 0, self.offset),
                    )

    async def detect(self, now: datetime) -> None:
        runner = self.runner(now)
        while await runner.run_once():
            pass


@pytest.fixture
async def world() -> World:
    world = World()
    await world.feed(range(20), bad_from=17)
    return world


async def test_a_degraded_site_gets_one_degradation_event_with_its_evidence(world: World) -> None:
    await world.detect(START + 21 * WEEK)

    detected = [e for e in world.sink.events if isinstance(e, DegradationDetectedV1)]
    assert len(detected) == 1
    detected_data = detected[0].data
    assert detected_data.scope.site_id == "lyon"
    assert detected_data.scope.dimension == "overall"
    assert detected_data.metric is Metric.MEAN_SATISFACTION
    assert detected_data.current.period.start == datetime(2025, 5, 5, tzinfo=UTC)  # week 17
    assert detected_data.current.value < detected_data.baseline.value - 0.9
    assert {t.comparison for t in detected_data.tests} == {"own_baseline", "network_peers"}
    assert detected_data.tests[0].correction == "benjamini_hochberg"
    assert detected_data.themes[0].theme == "platform"
    assert detected_data.themes[0].share == 1.0
    assert detected_data.example_comment_ids
    assert all(
        i.startswith("r-lyon-17-") and ":c-lyon-17-" in i for i in detected_data.example_comment_ids
    )
    assert detected[0].site_id == "lyon"
    stored = await world.degradations.degradations(network_id="net", open_only=True)
    assert [d.degradation_id for d in stored] == [detected_data.degradation_id]


async def test_comments_named_after_their_form_question_are_each_an_example() -> None:
    world = World(comment_id="q-comment")
    await world.feed(range(20), bad_from=17)

    await world.detect(START + 21 * WEEK)

    [detected] = [e for e in world.sink.events if isinstance(e, DegradationDetectedV1)]
    examples = detected.data.example_comment_ids
    # three comments of three responses of the degraded week, each naming its response
    assert len(set(examples)) == 3
    assert all(i.startswith("r-lyon-17-") and i.endswith(":q-comment") for i in examples)


async def test_running_again_publishes_nothing_new(world: World) -> None:
    await world.detect(START + 21 * WEEK)
    published = len(world.sink.events)

    await world.detect(START + 21 * WEEK)

    assert len(world.sink.events) == published


async def test_a_rerun_after_losing_the_cursor_republishes_the_same_ids(world: World) -> None:
    await world.detect(START + 21 * WEEK)
    first = [e.id for e in world.sink.events]
    world.degradations.cursors.clear()
    world.degradations.saved.clear()

    await world.detect(START + 21 * WEEK)

    assert [e.id for e in world.sink.events] == first * 2
    assert len(world.degradations.saved) == 1


async def test_recovery_resolves_the_degradation_once(world: World) -> None:
    await world.detect(START + 21 * WEEK)
    await world.feed(range(20, 24), bad_from=99)

    await world.detect(START + 25 * WEEK)

    resolved = [e for e in world.sink.events if isinstance(e, DegradationResolvedV1)]
    detected = [e for e in world.sink.events if isinstance(e, DegradationDetectedV1)]
    assert len(resolved) == 1
    assert resolved[0].data.degradation_id == detected[0].data.degradation_id
    assert resolved[0].data.current.value > 4.0
    assert await world.degradations.count_open() == 0


async def test_a_network_behind_catches_up_without_waiting_for_the_next_tick(
    world: World,
) -> None:
    stopping = asyncio.Event()

    class StoppingSink(Sink):
        async def publish(self, event: AnyEvent) -> None:
            await super().publish(event)
            if isinstance(event, DegradationDetectedV1):
                stopping.set()

    world.sink = StoppingSink()
    loop = world.runner(START + 21 * WEEK).loop(interval_seconds=3600)

    # Sixteen weeks due, four a round, an hour between ticks: in time only if rounds follow
    # at once while the network is behind.
    await asyncio.wait_for(loop(stopping), timeout=10)

    assert [type(e) for e in world.sink.events] == [DegradationDetectedV1]


async def test_a_week_is_not_evaluated_before_it_is_complete(world: World) -> None:
    # Week 19 (the last with data) ends on 2025-05-19; a day later it may still be filling.
    await world.detect(datetime(2025, 5, 20, tzinfo=UTC))

    assert (
        await world.degradations.evaluated_through(network_id="net")
        == START.replace(hour=0) + 18 * WEEK
    )


async def test_a_complaint_counts_with_its_themes_and_a_record_without_its_text() -> None:
    world = World()
    complaint = ComplaintReceivedV1.create(
        data=ComplaintReceived(
            complaint_id="rec-1",
            received_at=START,
            channel=ReceptionChannel.EMAIL,
            complainant_role=StakeholderRole.COMPANY,
            subject="Accès",
            description="Pas de problème avec le formateur, mais impossible de se connecter",
            category_hint="administration",
            training=TrainingRef(programme_id="prog-1"),
        ),
        network_id="net",
        site_id="lyon",
        source="/test",
        event_id="e-rec-1",
    )

    await world.handler.handle(complaint, Position("incidents", 0, 1))

    [record] = world.comments.records.values()
    assert record.comment_id == "rec-1"
    assert record.negative
    assert record.themes == ("platform", "administration")
    assert "net/level:programme/site:lyon/programme:prog-1" in record.scope_keys
    assert not hasattr(record, "text")
    [snapshot] = [
        s
        for s in await world.store.pending_snapshots(limit=100)
        if s.scope.site_id == "lyon"
        and s.scope.level.value == "site"
        and s.granularity.value == "month"
    ]
    assert (snapshot.complaints, snapshot.negative_comments) == (1, 1)
    assert [(c.label, c.count) for c in snapshot.complaints_by_role] == [("company", 1)]
    assert {c.label for c in snapshot.comment_themes} == {"platform", "administration"}


async def test_free_text_answers_are_classified_under_an_identifier_of_their_own() -> None:
    world = World()
    long_id = "typeform:" + "r" * 110
    event = _response("lyon", 0, 0, 4)
    answers = (
        *event.data.answers,
        TextAnswer(type="text", question_id="q-free-text", value="Connexion impossible"),
    )
    event = event.model_copy(
        update={"data": event.data.model_copy(update={"response_id": long_id, "answers": answers})}
    )

    await world.handler.handle(event, Position("t", 0, 1))

    [record] = world.comments.records.values()
    assert len(record.comment_id) <= 128
    assert record.comment_id.startswith("text:")
    assert record.themes == ("platform",)
