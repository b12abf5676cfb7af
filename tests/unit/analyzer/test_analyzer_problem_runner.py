"""From degradation transitions to problem events: order, grouping and idempotent ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import (
    InMemoryAggregateStore,
    InMemoryCommentStore,
    InMemoryDegradationStore,
    InMemoryFigureReader,
)
from boucle_analyzer.adapters.memory_problems import InMemoryProblemStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.detection_runner import DetectionRunner
from boucle_analyzer.domain.detection import DetectionConfig
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import CommentRecord, Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.problem_runner import ProblemRunner
from boucle_contracts.common import RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    Comment,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.incidents.v1 import HazardReported, HazardReportedV1, IncidentKind
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1

pytestmark = pytest.mark.unit
START = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)
GOOD = [5] * 12 + [4] * 12 + [3] * 4 + [2] * 2  # 30 ratings, mean 4.13
BAD = [5] * 2 + [4] * 4 + [3] * 9 + [2] * 9 + [1] * 6  # 30 ratings, mean 2.77
SITES = ("lyon", "paris", "lille", "nantes")


class Sink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


def _response(site: str, week: int, number: int, rating: int) -> SurveyResponseSubmittedV1:
    comments = (
        (Comment(comment_id="q-comment", text="La plateforme ne fonctionne pas"),)
        if rating <= 2
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
            # each site its programme session and its own trainer, who works there only
            training=TrainingRef(programme_id="prog-1", trainer_ids=(f"fmt-{site}",)),
            answers=(ScaleAnswer(type="scale", question_id="q", value=rating),),
            comments=comments,
        ),
        network_id="net",
        site_id=site,
        source="/test",
        event_id=f"e-{site}-{week}-{number}",
    )


class World:
    def __init__(self) -> None:
        self.metrics = AnalyzerMetrics(CollectorRegistry())
        self.store = InMemoryAggregateStore()
        self.comments = InMemoryCommentStore()
        self.degradations = InMemoryDegradationStore()
        self.problems = InMemoryProblemStore()
        self.sink = Sink()
        self.handler = InputHandler(
            store=self.store,
            comments=self.comments,
            classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
            metrics=self.metrics,
        )
        self.offset = 0

    async def feed(self, weeks: range, bad_from: int) -> None:
        for week in weeks:
            for site in SITES:
                ratings = BAD if site == "lyon" and week >= bad_from else GOOD
                for number, rating in enumerate(ratings):
                    self.offset += 1
                    await self.handler.handle(
                        _response(site, week, number, rating), Position("t", 0, self.offset)
                    )

    async def detect(self, now: datetime) -> None:
        runner = DetectionRunner(
            figures=InMemoryFigureReader(self.store),
            degradations=self.degradations,
            comments=self.comments,
            publisher=self.sink,
            metrics=self.metrics,
            config=DetectionConfig(),
            max_weeks_per_run=4,
            clock=lambda: now,
            problems=ProblemRunner(
                problems=self.problems, comments=self.comments, publisher=self.sink
            ),
        )
        while await runner.run_once():
            pass

    def of(self, kind: type[AnyEvent]) -> list[AnyEvent]:
        return [e for e in self.sink.events if isinstance(e, kind)]


@pytest.fixture
async def world() -> World:
    world = World()
    await world.feed(range(20), bad_from=17)
    return world


async def test_one_drop_at_a_site_is_one_problem_after_its_degradation_events(
    world: World,
) -> None:
    await world.detect(START + 21 * WEEK)

    detected = [e for e in world.of(DegradationDetectedV1) if isinstance(e, DegradationDetectedV1)]
    states = [e for e in world.sink.events if isinstance(e, ProblemOpenedV1 | ProblemUpdatedV1)]
    levels = {e.data.scope.level for e in detected}
    assert {ScopeLevel.SITE, ScopeLevel.PROGRAMME, ScopeLevel.TRAINER} <= levels
    # one problem, opened once: the network may flag it a week before the site explains it
    assert len(world.of(ProblemOpenedV1)) == 1
    assert len({e.data.problem_id for e in states}) == 1
    latest = states[-1].data
    assert latest.scopes == (Scope(level=ScopeLevel.SITE, network_id="net", site_id="lyon"),)
    assert set(latest.degradation_ids) == {e.data.degradation_id for e in detected}
    assert latest.themes[0].theme == "platform"
    assert 3 <= len(latest.example_comment_ids) <= 5
    for problem in states:  # after the degradation events of its week, in data time
        assert problem.site_id is None  # one partition key for all of a problem's events
        week = [e for e in detected if e.data.detected_at == problem.time]
        assert week
        position = world.sink.events.index(problem)
        assert all(world.sink.events.index(e) < position for e in week)
    assert [p.problem_id for p in await world.problems.open_problems(network_id="net")] == [
        latest.problem_id
    ]


async def test_running_again_publishes_no_new_problem_event(world: World) -> None:
    await world.detect(START + 21 * WEEK)
    published = len(world.sink.events)

    await world.detect(START + 21 * WEEK)

    assert len(world.sink.events) == published


async def test_a_rerun_from_scratch_republishes_the_same_problem_ids(world: World) -> None:
    await world.detect(START + 21 * WEEK)
    first = [e.id for e in world.sink.events]
    rerun = World()
    rerun.store, rerun.comments = world.store, world.comments

    await rerun.detect(START + 21 * WEEK)

    assert [e.id for e in rerun.sink.events] == first


async def test_the_problem_resolves_once_after_its_degradations(world: World) -> None:
    await world.detect(START + 21 * WEEK)
    await world.feed(range(20, 24), bad_from=99)

    await world.detect(START + 25 * WEEK)

    (resolved,) = world.of(ProblemResolvedV1)
    last_degradation = max(world.sink.events.index(e) for e in world.of(DegradationResolvedV1))
    assert world.sink.events.index(resolved) > last_degradation
    assert await world.problems.open_problems(network_id="net") == []


async def test_a_problem_whose_drop_late_data_retracts_is_resolved() -> None:
    world = World()
    for week in range(20):
        await world.feed(range(week, week + 1), bad_from=17 if week < 19 else 99)
    await world.detect(START + 21 * WEEK)
    (opened,) = world.of(ProblemOpenedV1)
    retracted = {e.data.degradation_id for e in world.of(DegradationDetectedV1)}

    # Most of Lyon's responses of weeks 17 and 18 arrive late, and they are very good: the
    # weeks hold no drop at any scope (numbers are hours into the week: below 168).
    for week in (17, 18):
        for number, rating in enumerate([5] * 120, start=40):
            world.offset += 1
            await world.handler.handle(
                _response("lyon", week, number, rating), Position("t", 0, world.offset)
            )
    await world.detect(START + 21 * WEEK + timedelta(hours=1))

    (resolved,) = world.of(ProblemResolvedV1)
    assert resolved.data.problem_id == opened.data.problem_id
    assert set(resolved.data.degradation_ids) <= retracted
    assert {e.data.degradation_id for e in world.of(DegradationResolvedV1)} == retracted
    assert await world.problems.open_problems(network_id="net") == []
    assert len(world.of(ProblemOpenedV1)) == 1  # nothing opened again


async def test_a_problem_names_the_terms_that_rose_in_its_scopes_and_weeks(world: World) -> None:
    lyon = Scope(level=ScopeLevel.SITE, network_id="net", site_id="lyon").key()

    def record(number: int, week: int, stems: tuple[str, ...]) -> CommentRecord:
        return CommentRecord(
            comment_id=f"extra-{number}",
            network_id="net",
            scope_keys=(lyon,),
            at=START + week * WEEK + timedelta(hours=number % 100),
            source="survey",
            themes=("platform",),
            negative=True,
            stems=stems,
            event_id=f"extra-{number}",
        )

    usual = [record(n, 5 + n % 12, ("salle",)) for n in range(24)]
    now = [record(100 + n, 17, ("déconnect", "salle")) for n in range(9)]
    await world.comments.keep(records=[*usual, *now])

    await world.detect(START + 21 * WEEK)

    (opened,) = world.of(ProblemOpenedV1)
    assert "déconnect" in opened.data.emerging_terms
    assert "salle" not in opened.data.emerging_terms  # as frequent as usual


async def test_a_problem_names_the_hazards_of_its_scopes_and_weeks_not_as_comments(
    world: World,
) -> None:
    def hazard(site: str, week: int) -> HazardReportedV1:
        at = START + week * WEEK + timedelta(days=1)
        return HazardReportedV1.create(
            data=HazardReported(
                incident_id=f"hz-{site}-{week}",
                kind=IncidentKind.HAZARD,
                occurred_at=at,
                reported_at=at,
                reported_by_role=StakeholderRole.TRAINER,
                summary="Panne du serveur de la plateforme",
                training=TrainingRef(programme_id="prog-1"),
            ),
            network_id="net",
            site_id=site,
            source="/test",
            event_id=f"e-hz-{site}-{week}",
        )

    for number, event in enumerate([hazard("lyon", 17), hazard("paris", 17), hazard("lyon", 2)]):
        await world.handler.handle(event, Position("t", 1, number))

    await world.detect(START + 21 * WEEK)

    (opened,) = world.of(ProblemOpenedV1)
    assert opened.data.hazard_ids == ("hz-lyon-17",)  # its site, its weeks
    problem_events = world.of(ProblemOpenedV1) + world.of(ProblemUpdatedV1)
    degradations = world.of(DegradationDetectedV1)
    examples = {i for e in problem_events + degradations for i in e.data.example_comment_ids}
    assert not any(i.startswith("hz-") for i in examples)
