"""Publishing changed aggregates: one snapshot per change, deterministic ids, nothing lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import InMemoryAggregateStore, InMemoryCommentStore
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.domain.aggregation import deltas_for
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.ports import Position
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.figures_publisher import SnapshotPublisher
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    TOPIC,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import ScopeLevel

pytestmark = pytest.mark.unit
TAXONOMIES = load_catalog(None, None)

AGGREGATES_PER_RESPONSE = 12  # network, site, programme, trainer × day, week, month


class ListSink:
    """An EventSink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)

    def snapshots(self) -> list[ScopeMetricsUpdatedV1]:
        assert all(isinstance(e, ScopeMetricsUpdatedV1) for e in self.events)
        return [e for e in self.events if isinstance(e, ScopeMetricsUpdatedV1)]


class BrokenSink(ListSink):
    """Kafka down: every attempt is recorded, none succeeds."""

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)
        raise ConnectionError("kafka unavailable")


def _event(number: int, value: int = 4) -> SurveyResponseSubmittedV1:
    return SurveyResponseSubmittedV1.create(
        data=SurveyResponseSubmitted(
            response_id=f"resp-{number}",
            survey_id="survey-1",
            survey_kind=SurveyKind.HOT,
            respondent_role=RespondentRole.LEARNER,
            submitted_at=datetime(2025, 3, 14, 16, 41, tzinfo=UTC),
            channel="api",
            training=TrainingRef(programme_id="prog-1", trainer_ids=("t-1",)),
            answers=(ScaleAnswer(type="scale", question_id="q", value=value),),
        ),
        network_id="net-1",
        site_id="site-a",
        source="/collector/api",
        event_id=f"evt-{number}",
    )


class World:
    def __init__(self, sink: ListSink | None = None, *, batch_size: int = 500) -> None:
        self.store = InMemoryAggregateStore()
        self.registry = CollectorRegistry()
        metrics = AnalyzerMetrics(self.registry)
        self.handler = InputHandler(
            store=self.store,
            comments=InMemoryCommentStore(),
            classifier=Classifier(PlainAnalyser(), TAXONOMIES),
            metrics=metrics,
        )
        self.sink = sink or ListSink()
        self.publisher = SnapshotPublisher(
            store=self.store, publisher=self.sink, metrics=metrics, batch_size=batch_size
        )

    async def receive(self, number: int, offset: int, value: int = 4) -> None:
        await self.handler.handle(_event(number, value), Position(TOPIC, 0, offset))

    def published_count(self) -> float:
        return self.registry.get_sample_value("boucle_analyzer_snapshots_published_total") or 0.0


async def test_every_changed_aggregate_is_published_once() -> None:
    world = World()
    await world.receive(1, offset=0)

    published = await world.publisher.publish_pending()

    snapshots = world.sink.snapshots()
    assert published == AGGREGATES_PER_RESPONSE
    assert {s.data.key for s in snapshots} == {
        d.key for d in deltas_for("net-1", "site-a", _event(1).data)
    }
    assert len({s.id for s in snapshots}) == AGGREGATES_PER_RESPONSE
    assert world.published_count() == AGGREGATES_PER_RESPONSE
    assert await world.store.pending_snapshots(limit=100) == []


async def test_nothing_is_published_again_while_nothing_changes() -> None:
    world = World()
    await world.receive(1, offset=0)
    await world.publisher.publish_pending()

    assert await world.publisher.publish_pending() == 0
    await world.receive(1, offset=0)  # a redelivery changes nothing either
    assert await world.publisher.publish_pending() == 0
    assert len(world.sink.events) == AGGREGATES_PER_RESPONSE


async def test_a_snapshot_carries_the_figures_and_the_scope_tenancy() -> None:
    world = World()
    await world.receive(1, offset=0, value=5)
    await world.receive(2, offset=1, value=2)
    await world.publisher.publish_pending()

    by_level = {
        s.data.scope.level: s for s in world.sink.snapshots() if s.data.granularity == "month"
    }

    site = by_level[ScopeLevel.SITE]
    assert (site.network_id, site.site_id, site.subject) == ("net-1", "site-a", site.data.key)
    assert site.source == "/analyzer/aggregates"
    assert (site.data.responses, site.data.revision, site.data.last_event_id) == (2, 2, "evt-2")
    (overall,) = site.data.dimensions
    assert (overall.count, overall.total, overall.total_squares, overall.satisfied) == (
        2,
        7.0,
        29.0,
        1,
    )
    # network and trainer scopes are network-wide: no site on the envelope
    assert by_level[ScopeLevel.NETWORK].site_id is None
    assert by_level[ScopeLevel.TRAINER].site_id is None
    assert by_level[ScopeLevel.TRAINER].network_id == "net-1"


async def test_snapshot_ids_derive_from_aggregate_and_revision() -> None:
    first, second = World(), World()
    for world in (first, second):
        await world.receive(1, offset=0)
        await world.publisher.publish_pending()

    ids_of_revision_1 = {s.id for s in first.sink.snapshots()}
    assert ids_of_revision_1 == {s.id for s in second.sink.snapshots()}

    await first.receive(2, offset=1)
    await first.publisher.publish_pending()

    revision_2 = first.sink.snapshots()[AGGREGATES_PER_RESPONSE:]
    assert len(revision_2) == AGGREGATES_PER_RESPONSE
    assert {s.data.revision for s in revision_2} == {2}
    assert ids_of_revision_1.isdisjoint({s.id for s in revision_2})


async def test_when_kafka_fails_nothing_is_marked_published_and_the_next_round_retries() -> None:
    world = World(BrokenSink())
    await world.receive(1, offset=0)

    with pytest.raises(ConnectionError):
        await world.publisher.publish_pending()

    assert len(await world.store.pending_snapshots(limit=100)) == AGGREGATES_PER_RESPONSE
    assert world.published_count() == 0
    attempted = world.sink.events[0]

    working = ListSink()
    retry = SnapshotPublisher(
        store=world.store,
        publisher=working,
        metrics=AnalyzerMetrics(CollectorRegistry()),
        batch_size=500,
    )
    assert await retry.publish_pending() == AGGREGATES_PER_RESPONSE
    # the re-publication carries the id of the failed attempt: recognisable downstream
    assert attempted.id in {e.id for e in working.events}
    assert await world.store.pending_snapshots(limit=100) == []


async def test_an_aggregate_changed_while_publishing_stays_pending() -> None:
    world = World()
    await world.receive(1, offset=0)

    class ConcurrentSink(ListSink):
        async def publish(self, event: AnyEvent) -> None:
            await super().publish(event)
            if len(self.events) == 1:  # a response is consumed meanwhile
                await world.receive(2, offset=1)

    world.sink = ConcurrentSink()
    world.publisher = SnapshotPublisher(
        store=world.store,
        publisher=world.sink,
        metrics=AnalyzerMetrics(CollectorRegistry()),
        batch_size=500,
    )

    await world.publisher.publish_pending()
    pending = await world.store.pending_snapshots(limit=100)

    # every aggregate now has revision 2; none of them was published at that revision
    assert len(pending) == AGGREGATES_PER_RESPONSE
    assert {s.revision for s in pending} == {2}
    await world.publisher.publish_pending()
    assert await world.store.pending_snapshots(limit=100) == []
    assert {s.data.revision for s in world.sink.snapshots()[-AGGREGATES_PER_RESPONSE:]} == {2}


async def test_publication_goes_in_batches() -> None:
    world = World(batch_size=5)
    await world.receive(1, offset=0)

    rounds = [await world.publisher.publish_pending() for _ in range(4)]

    assert rounds == [5, 5, 2, 0]
    assert len({e.id for e in world.sink.events}) == AGGREGATES_PER_RESPONSE


async def test_the_loop_survives_an_outage_and_stops_when_asked() -> None:
    world = World()
    await world.receive(1, offset=0)
    stopping = asyncio.Event()

    class RecoveringSink(ListSink):
        failures = 2

        async def publish(self, event: AnyEvent) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("kafka unavailable")
            await super().publish(event)
            if len(self.events) == AGGREGATES_PER_RESPONSE:
                stopping.set()

    world.sink = RecoveringSink()
    publisher = SnapshotPublisher(
        store=world.store,
        publisher=world.sink,
        metrics=AnalyzerMetrics(CollectorRegistry()),
        batch_size=500,
    )

    await asyncio.wait_for(publisher.loop(interval_seconds=0.01)(stopping), timeout=5)

    assert len(world.sink.events) == AGGREGATES_PER_RESPONSE
    assert await world.store.pending_snapshots(limit=100) == []


async def test_a_backlog_is_published_batch_after_batch_without_waiting() -> None:
    stopping = asyncio.Event()

    class StoppingSink(ListSink):
        async def publish(self, event: AnyEvent) -> None:
            await super().publish(event)
            if len(self.events) == AGGREGATES_PER_RESPONSE:
                stopping.set()

    world = World(StoppingSink(), batch_size=5)
    await world.receive(1, offset=0)

    # An hour between ticks: all 12 in time only if a full batch goes on at once.
    await asyncio.wait_for(world.publisher.loop(interval_seconds=3600)(stopping), timeout=5)

    assert len(world.sink.events) == AGGREGATES_PER_RESPONSE
    assert await world.store.pending_snapshots(limit=100) == []
