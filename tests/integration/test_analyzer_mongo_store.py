"""The analyzer's MongoDB store against a real wire-protocol server (FerretDB or MongoDB)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.domain.aggregation import DimensionDelta, deltas_for
from boucle_analyzer.domain.ports import Position, Receipt
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.metrics.v1 import Granularity

pytestmark = pytest.mark.integration


@pytest.fixture(params=[True, False], ids=["guarded-updates", "checked-updates"])
async def store(
    mongodb_uri: str, isolation: str, request: pytest.FixtureRequest
) -> AsyncIterator[MongoAggregateStore]:
    """Both write modes run on whichever server answers: the atomic conditional update
    (MongoDB's) and the read-then-``_id``-update of the single writer (FerretDB's)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    store = MongoAggregateStore(client, f"analyzer_{isolation}", guarded=request.param)
    await store.create_indexes()
    yield store
    await client.drop_database(f"analyzer_{isolation}")
    await client.close()


def _month_site_key(event: SurveyResponseSubmittedV1) -> str:
    return next(
        d.key
        for d in deltas_for(event.network_id, event.site_id, event.data)
        if d.granularity is Granularity.MONTH and d.scope.level.value == "site"
    )


async def test_receipts_tell_new_redelivery_and_duplicate(store: MongoAggregateStore) -> None:
    first = Position("boucle.feedback.v1", 3, 10)
    assert await store.receive(event_id="e-1", position=first) is Receipt.NEW
    assert await store.receive(event_id="e-1", position=first) is Receipt.REDELIVERY
    assert await store.receive(event_id="e-1", position=Position("boucle.feedback.v1", 3, 11)) is (
        Receipt.DUPLICATE
    )


async def test_a_position_is_applied_once_per_aggregate(store: MongoAggregateStore) -> None:
    event = example_of(SurveyResponseSubmittedV1)
    deltas = deltas_for(event.network_id, event.site_id, event.data)
    position = Position("boucle.feedback.v1", 0, 5)

    applied = [await store.apply(delta=d, position=position, event_id=event.id) for d in deltas]
    again = [await store.apply(delta=d, position=position, event_id=event.id) for d in deltas]
    older = [
        await store.apply(delta=d, position=Position("boucle.feedback.v1", 0, 4), event_id="old")
        for d in deltas
    ]

    assert all(applied)
    assert not any(again)
    assert not any(older)
    document = await store.aggregate(_month_site_key(event))
    assert document is not None
    assert document["responses"] == 1
    assert document["revision"] == 1


async def test_later_offsets_and_other_partitions_accumulate_exact_sums(
    store: MongoAggregateStore,
) -> None:
    event = example_of(SurveyResponseSubmittedV1)
    deltas = deltas_for(event.network_id, event.site_id, event.data)
    positions = [
        Position("boucle.feedback.v1", 0, 1),
        Position("boucle.feedback.v1", 0, 2),
        Position("boucle.feedback.v1", 1, 0),
    ]
    for position in positions:
        for delta in deltas:
            await store.apply(delta=delta, position=position, event_id=f"e-{position.offset}")

    document = await store.aggregate(_month_site_key(event))
    assert document is not None
    assert document["responses"] == 3
    expected = deltas[0].dimensions
    for name, dim in expected.items():
        stored = document["dims"][name]
        assert stored["count"] == 3 * dim.count
        assert stored["total_milli"] == 3 * dim.total_milli
        assert stored["squares_micro"] == 3 * dim.squares_micro
        assert stored["satisfied"] == 3 * dim.satisfied


async def test_snapshots_stay_pending_until_published_at_their_revision(
    store: MongoAggregateStore,
) -> None:
    event = example_of(SurveyResponseSubmittedV1)
    deltas = deltas_for(event.network_id, event.site_id, event.data)
    for delta in deltas:
        await store.apply(delta=delta, position=Position("t", 0, 1), event_id=event.id)

    pending = await store.pending_snapshots(limit=100)
    assert {s.key for s in pending} == {d.key for d in deltas}

    # One aggregate changes after it was read: publishing the stale read must not clear it.
    stale = pending[0]
    changed = next(d for d in deltas if d.key == stale.key)
    await store.apply(delta=changed, position=Position("t", 0, 2), event_id="e-2")
    for snapshot in pending:
        await store.mark_published(snapshot=snapshot)

    still = await store.pending_snapshots(limit=100)
    assert [s.key for s in still] == [stale.key]
    assert still[0].revision == stale.revision + 1
    assert still[0].responses == 2


async def test_sums_past_two_to_the_31_stay_exact(store: MongoAggregateStore) -> None:
    """FerretDB wraps int32 counters on overflow; the store must write them as int64."""
    base = next(
        d
        for d in deltas_for(*_site_of(example_of(SurveyResponseSubmittedV1)))
        if d.granularity is Granularity.MONTH
    )
    big = DimensionDelta(count=1, total_milli=5_000, squares_micro=2_000_000_000, satisfied=1)
    delta = dataclasses.replace(base, dimensions={"overall": big}, counters={})
    for offset in range(3):
        await store.apply(delta=delta, position=Position("t", 0, offset), event_id=f"e-{offset}")

    document = await store.aggregate(delta.key)
    assert document is not None
    assert document["dims"]["overall"]["squares_micro"] == 6_000_000_000
    (snapshot,) = [s for s in await store.pending_snapshots(limit=100) if s.key == delta.key]
    overall = next(d for d in snapshot.dimensions if d.dimension == "overall")
    assert overall.total_squares == 6_000.0


def _site_of(event: SurveyResponseSubmittedV1) -> tuple[str, str | None, Any]:
    return event.network_id, event.site_id, event.data


async def test_prepare_chooses_the_write_mode_of_the_server(
    mongodb_uri: str, isolation: str
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        info = await client.admin.command("buildInfo")
        store = MongoAggregateStore(client, f"analyzer_mode_{isolation}")
        await store.prepare()
        ferretdb = any(key.startswith("ferretdb") for key in info)
        assert store.guarded is not ferretdb
    finally:
        await client.drop_database(f"analyzer_mode_{isolation}")
        await client.close()
