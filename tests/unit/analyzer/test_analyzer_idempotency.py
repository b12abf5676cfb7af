"""At-least-once delivery into the aggregates: redeliveries, re-publications and replays.

The analyzer consumes with at-least-once semantics: a message may come again (same
position) after a crash or a rewind, and a producer may publish the same event twice
(same event id, another position). Whatever happens, each response counts exactly once.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import InMemoryAggregateStore, InMemoryCommentStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.domain.aggregation import AggregateDelta, deltas_for
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position, Receipt
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    TOPIC,
    Answer,
    NpsAnswer,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated

pytestmark = pytest.mark.unit
TAXONOMIES = load_catalog(None, None)

EVENT_TYPE = SurveyResponseSubmittedV1.EVENT_TYPE


def _event(
    number: int,
    *,
    site_id: str = "site-a",
    answers: tuple[Answer, ...] | None = None,
    trainer_ids: tuple[str, ...] = ("t-1",),
    submitted_at: datetime | None = None,
) -> SurveyResponseSubmittedV1:
    return SurveyResponseSubmittedV1.create(
        data=SurveyResponseSubmitted(
            response_id=f"resp-{number}",
            survey_id="survey-1",
            survey_kind=SurveyKind.HOT,
            respondent_role=RespondentRole.LEARNER,
            submitted_at=submitted_at or datetime(2025, 3, 14, 16, 41, tzinfo=UTC),
            channel="api",
            training=TrainingRef(programme_id="prog-1", trainer_ids=trainer_ids),
            answers=answers
            or (
                ScaleAnswer(type="scale", question_id="q1", dimension="platform", value=2),
                ScaleAnswer(type="scale", question_id="q2", value=4),
            ),
        ),
        network_id="net-1",
        site_id=site_id,
        source="/collector/api",
        event_id=f"evt-{number}",
    )


def _at(partition: int, offset: int) -> Position:
    return Position(TOPIC, partition, offset)


@dataclass
class Analyzer:
    store: InMemoryAggregateStore = field(default_factory=InMemoryAggregateStore)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.handler = InputHandler(
            store=self.store,
            comments=InMemoryCommentStore(),
            classifier=Classifier(PlainAnalyser(), TAXONOMIES),
            metrics=AnalyzerMetrics(self.registry),
        )

    def outcomes(self, outcome: str) -> float:
        value = self.registry.get_sample_value(
            "boucle_analyzer_events_total", {"event_type": EVENT_TYPE, "outcome": outcome}
        )
        return value or 0.0

    async def snapshots(self) -> dict[str, ScopeMetricsUpdated]:
        pending = await self.store.pending_snapshots(limit=100_000)
        return {snapshot.key: snapshot for snapshot in pending}


@pytest.fixture
def analyzer() -> Analyzer:
    return Analyzer()


async def test_a_new_response_counts_once_in_every_scope_and_period(analyzer: Analyzer) -> None:
    event = _event(1)

    receipt = await analyzer.handler.handle(event, _at(0, 7))

    snapshots = await analyzer.snapshots()
    assert receipt is Receipt.NEW
    # network, site, programme, trainer × day, week, month
    assert len(snapshots) == 12
    assert set(snapshots) == {d.key for d in deltas_for("net-1", "site-a", event.data)}
    for snapshot in snapshots.values():
        assert snapshot.responses == 1
        assert snapshot.revision == 1
        assert snapshot.last_event_id == "evt-1"
        figures = {d.dimension: (d.count, d.total, d.satisfied) for d in snapshot.dimensions}
        assert figures == {"platform": (1, 2.0, 0), "overall": (1, 4.0, 1)}
    assert analyzer.outcomes("new") == 1


async def test_a_redelivered_message_is_recognised_and_counted_once(analyzer: Analyzer) -> None:
    event = _event(1)
    await analyzer.handler.handle(event, _at(0, 7))

    # The consumer crashed before committing: the same message comes again, same position.
    receipt = await analyzer.handler.handle(event, _at(0, 7))

    assert receipt is Receipt.REDELIVERY
    for snapshot in (await analyzer.snapshots()).values():
        assert (snapshot.responses, snapshot.revision) == (1, 1)
    assert (analyzer.outcomes("new"), analyzer.outcomes("redelivery")) == (1, 1)


@pytest.mark.parametrize(
    "position", [_at(0, 9), _at(3, 7)], ids=["later-offset", "other-partition"]
)
async def test_the_same_event_published_twice_is_a_duplicate_counted_once(
    analyzer: Analyzer, position: Position
) -> None:
    event = _event(1)
    await analyzer.handler.handle(event, _at(0, 7))
    before = await analyzer.snapshots()

    receipt = await analyzer.handler.handle(event, position)

    assert receipt is Receipt.DUPLICATE
    assert await analyzer.snapshots() == before
    assert analyzer.outcomes("duplicate") == 1
    # and it stays a duplicate when that copy is itself redelivered
    assert await analyzer.handler.handle(event, position) is Receipt.DUPLICATE


async def test_two_different_responses_both_count(analyzer: Analyzer) -> None:
    low = (ScaleAnswer(type="scale", question_id="q", value=1),)
    high = (ScaleAnswer(type="scale", question_id="q", value=5),)

    await analyzer.handler.handle(_event(1, answers=low), _at(0, 1))
    await analyzer.handler.handle(_event(2, answers=high), _at(0, 2))

    for snapshot in (await analyzer.snapshots()).values():
        assert (snapshot.responses, snapshot.revision, snapshot.last_event_id) == (2, 2, "evt-2")
        (overall,) = snapshot.dimensions
        assert (overall.count, overall.total, overall.total_squares, overall.satisfied) == (
            2,
            6.0,
            26.0,
            1,
        )


async def test_responses_of_other_sites_only_meet_in_shared_scopes(analyzer: Analyzer) -> None:
    await analyzer.handler.handle(_event(1, site_id="lyon"), _at(0, 1))
    await analyzer.handler.handle(_event(2, site_id="paris"), _at(1, 1))

    by_level: dict[str, set[int]] = {}
    for snapshot in (await analyzer.snapshots()).values():
        by_level.setdefault(snapshot.scope.level.value, set()).add(snapshot.responses)

    # the network and the (cross-site) trainer see both; each site and programme sees one
    assert by_level == {"network": {2}, "trainer": {2}, "site": {1}, "programme": {1}}


async def test_a_redelivery_completes_an_application_interrupted_midway() -> None:
    store = FlakyStore(InMemoryAggregateStore(), fail_on_apply_number=5)
    handler = InputHandler(
        store=store,
        comments=InMemoryCommentStore(),
        classifier=Classifier(PlainAnalyser(), TAXONOMIES),
        metrics=AnalyzerMetrics(CollectorRegistry()),
    )
    event = _event(1)

    with pytest.raises(ConnectionError):
        await handler.handle(event, _at(0, 7))
    partial = await store.inner.pending_snapshots(limit=100)
    assert 0 < len(partial) < 12

    receipt = await handler.handle(event, _at(0, 7))

    snapshots = await store.inner.pending_snapshots(limit=100)
    assert receipt is Receipt.REDELIVERY
    assert len(snapshots) == 12
    assert all((s.responses, s.revision) == (1, 1) for s in snapshots)


# --- replaying whole topics -----------------------------------------------------------


class FlakyStore:
    """Delegates to a real store, failing like a database: before or after the write."""

    def __init__(
        self,
        inner: InMemoryAggregateStore,
        *,
        rng: random.Random | None = None,
        failure_rate: float = 0.0,
        fail_on_apply_number: int | None = None,
    ) -> None:
        self.inner = inner
        self._rng = rng or random.Random(0)
        self._failure_rate = failure_rate
        self._fail_on = fail_on_apply_number
        self._applies = 0

    def _fails(self) -> bool:
        return self._rng.random() < self._failure_rate

    async def receive(self, *, event_id: str, position: Position) -> Receipt:
        if self._fails():
            raise ConnectionError("ledger unreachable")
        receipt = await self.inner.receive(event_id=event_id, position=position)
        if self._fails():
            raise ConnectionError("ledger written, acknowledgement lost")
        return receipt

    async def apply(self, *, delta: AggregateDelta, position: Position, event_id: str) -> bool:
        self._applies += 1
        if self._applies == self._fail_on or self._fails():
            raise ConnectionError("aggregate unreachable")
        applied = await self.inner.apply(delta=delta, position=position, event_id=event_id)
        if self._fails():
            raise ConnectionError("aggregate written, acknowledgement lost")
        return applied

    async def apply_all(
        self,
        *,
        deltas: Sequence[AggregateDelta],
        position: Position,
        event_id: str,
        redelivery: bool = False,
    ) -> None:
        """Like an unordered bulk write cut short: the deltas before the failure are kept."""
        for delta in deltas:
            await self.apply(delta=delta, position=position, event_id=event_id)

    async def pending_snapshots(self, *, limit: int) -> list[ScopeMetricsUpdated]:
        return await self.inner.pending_snapshots(limit=limit)

    async def mark_published(self, *, snapshot: ScopeMetricsUpdated) -> None:
        await self.inner.mark_published(snapshot=snapshot)


Log = list[list[SurveyResponseSubmittedV1]]  # partition -> messages, by offset


def _random_log(rng: random.Random, *, events: int, partitions: int, scales: bool) -> Log:
    """Responses spread over partitions; some published twice (same id, other position)."""
    log: Log = [[] for _ in range(partitions)]
    start = datetime(2025, 12, 20, tzinfo=UTC)
    for number in range(events):
        low, high = rng.choice([(1, 5), (0, 10), (1, 4)]) if scales else (1, 5)
        ratings = [
            ScaleAnswer(
                type="scale",
                question_id=f"q{i}",
                dimension=rng.choice([None, "platform", "trainer"]),
                value=rng.randint(low, high),
                scale_min=low,
                scale_max=high,
            )
            for i in range(rng.randint(1, 3))
        ]
        nps = NpsAnswer(type="nps", question_id="nps", value=rng.randint(0, 10))
        answers: tuple[Answer, ...] = (*ratings, nps)
        event = _event(
            number,
            site_id=rng.choice(["lyon", "paris"]),
            answers=answers,
            trainer_ids=tuple(rng.sample(["t-1", "t-2", "t-3"], rng.randint(0, 2))),
            submitted_at=start + timedelta(hours=rng.randint(0, 24 * 30)),
        )
        log[rng.randrange(partitions)].append(event)
        if rng.random() < 0.3:  # the producer retried: the same event again, elsewhere
            log[rng.randrange(partitions)].append(event)
    return log


async def _consume(
    log: Log, handler: InputHandler, rng: random.Random, *, crash_rate: float = 0.0
) -> None:
    """One consumer group reading every partition in order, interleaved at random.

    A handler failure rewinds its partition to that message (NACK_ON_ERROR); a crash
    rewinds every partition to its last committed offset; commits lag behind at random.
    """
    cursor = [0] * len(log)
    committed = [0] * len(log)
    for _ in range(100_000):
        open_partitions = [p for p, messages in enumerate(log) if cursor[p] < len(messages)]
        if not open_partitions:
            return
        partition = rng.choice(open_partitions)
        offset = cursor[partition]
        try:
            await handler.handle(log[partition][offset], _at(partition, offset))
        except ConnectionError:
            continue
        cursor[partition] += 1
        if rng.random() < 0.5:
            committed[partition] = cursor[partition]
        if rng.random() < crash_rate:
            cursor = list(committed)
    raise AssertionError("the consumer never reached the end of the log")


def _expected(log: Log) -> dict[str, tuple[int, int, dict[str, tuple[int, int, int, int]]]]:
    """Oracle: each distinct event id counted once, straight from the domain."""
    unique = {event.id: event for messages in log for event in messages}
    totals: dict[str, tuple[int, int, dict[str, tuple[int, int, int, int]]]] = {}
    for event in unique.values():
        for delta in deltas_for(event.network_id, event.site_id, event.data):
            responses, revision, dims = totals.get(delta.key, (0, 0, {}))
            for name, d in delta.dimensions.items():
                count, total, squares, satisfied = dims.get(name, (0, 0, 0, 0))
                dims[name] = (
                    count + d.count,
                    total + d.total_milli,
                    squares + d.squares_micro,
                    satisfied + d.satisfied,
                )
            totals[delta.key] = (responses + delta.responses, revision + 1, dims)
    return totals


def _figures(
    snapshots: Iterable[ScopeMetricsUpdated],
) -> dict[str, tuple[int, int, dict[str, tuple[int, int, int, int]]]]:
    return {
        s.key: (
            s.responses,
            s.revision,
            {
                d.dimension: (
                    d.count,
                    round(d.total * 1_000),
                    round(d.total_squares * 1_000_000),
                    d.satisfied,
                )
                for d in s.dimensions
            },
        )
        for s in snapshots
    }


def _assert_same_figures(
    actual: dict[str, tuple[int, int, dict[str, tuple[int, int, int, int]]]],
    expected: dict[str, tuple[int, int, dict[str, tuple[int, int, int, int]]]],
) -> None:
    assert set(actual) == set(expected)
    for key, (responses, revision, dims) in expected.items():
        got_responses, got_revision, got_dims = actual[key]
        assert (got_responses, got_revision) == (responses, revision), key
        assert set(got_dims) == set(dims), key
        for name, (count, total, squares, satisfied) in dims.items():
            # Integer sums (thousandths of a point): exact whatever the replay order.
            assert got_dims[name] == (count, total, squares, satisfied), (key, name)


@pytest.mark.parametrize("seed", range(12))
async def test_any_interleaving_with_failures_and_rewinds_counts_each_response_once(
    seed: int,
) -> None:
    rng = random.Random(seed)
    log = _random_log(rng, events=15, partitions=3, scales=True)
    store = InMemoryAggregateStore()
    flaky = FlakyStore(store, rng=rng, failure_rate=0.03)
    handler = InputHandler(
        store=flaky,
        comments=InMemoryCommentStore(),
        classifier=Classifier(PlainAnalyser(), TAXONOMIES),
        metrics=AnalyzerMetrics(CollectorRegistry()),
    )

    await _consume(log, handler, rng, crash_rate=0.05)

    _assert_same_figures(_figures(await store.pending_snapshots(limit=100_000)), _expected(log))


@pytest.mark.parametrize("seed", range(12))
async def test_replaying_the_topics_from_scratch_rebuilds_identical_aggregates(
    seed: int,
) -> None:
    # Ratings on 1–5 only: sums are integers, so "identical" can be exact.
    rng = random.Random(seed)
    log = _random_log(rng, events=15, partitions=3, scales=False)
    first, second = Analyzer(), Analyzer()

    await _consume(log, first.handler, random.Random(seed + 1000))
    await _consume(log, second.handler, random.Random(seed + 2000), crash_rate=0.1)

    def comparable(snapshots: dict[str, ScopeMetricsUpdated]) -> dict[str, object]:
        # last_event_id names whichever response came last, which the interleaving decides
        return {k: s.model_dump(exclude={"last_event_id"}) for k, s in snapshots.items()}

    assert comparable(await first.snapshots()) == comparable(await second.snapshots())
    _assert_same_figures(_figures((await first.snapshots()).values()), _expected(log))


@pytest.mark.parametrize("seed", range(4))
async def test_rewinding_the_group_to_the_earliest_offsets_changes_nothing(seed: int) -> None:
    rng = random.Random(seed)
    log = _random_log(rng, events=15, partitions=3, scales=True)
    analyzer = Analyzer()
    await _consume(log, analyzer.handler, rng)
    before = await analyzer.snapshots()

    await _consume(log, analyzer.handler, rng)  # offsets reset: everything comes again

    assert await analyzer.snapshots() == before
    assert analyzer.outcomes("new") == len({e.id for messages in log for e in messages})
