"""Batched aggregate updates, comment records and degradations against a real FerretDB/MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from boucle_analyzer.adapters.mongo_aggregates import MongoAggregateStore
from boucle_analyzer.adapters.mongo_comments import MongoCommentStore
from boucle_analyzer.adapters.mongo_degradations import MongoDegradationStore
from boucle_analyzer.domain.aggregation import deltas_for
from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.domain.ports import CommentRecord, FigureQuery, Position
from boucle_contracts.common import Period
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.metrics.v1 import Granularity
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation

pytestmark = pytest.mark.integration
Client = AsyncMongoClient[dict[str, Any]]
EVENT = example_of(SurveyResponseSubmittedV1)
WEEK = datetime(2025, 3, 10, tzinfo=UTC)


@pytest.fixture
async def client(mongodb_uri: str, isolation: str) -> AsyncIterator[Client]:
    client: Client = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.drop_database(f"analyzer_{isolation}")
    await client.close()


async def test_one_batch_applies_new_deltas_and_skips_those_already_applied(
    client: Client, isolation: str
) -> None:
    store = MongoAggregateStore(client, f"analyzer_{isolation}")
    await store.create_indexes()
    deltas = deltas_for(EVENT.network_id, EVENT.site_id, EVENT.data)
    position = Position("boucle.feedback.v1", 0, 7)
    # Some aggregates already hold this position (a crash midway), the others do not.
    for delta in deltas[::2]:
        assert await store.apply(delta=delta, position=position, event_id=EVENT.id)

    await store.apply_all(deltas=deltas, position=position, event_id=EVENT.id)
    await store.apply_all(deltas=deltas, position=position, event_id=EVENT.id)

    for delta in deltas:
        document = await store.aggregate(delta.key)
        assert document is not None
        assert (document["responses"], document["revision"]) == (1, 1), delta.key


async def test_a_later_batch_counts_every_aggregate_once_more(
    client: Client, isolation: str
) -> None:
    store = MongoAggregateStore(client, f"analyzer_{isolation}")
    deltas = deltas_for(EVENT.network_id, EVENT.site_id, EVENT.data)
    for offset in (1, 2):
        await store.apply_all(
            deltas=deltas, position=Position("t", 0, offset), event_id=f"e-{offset}"
        )

    figures = await store.figures(
        query=FigureQuery(network_id=EVENT.network_id, granularity=Granularity.WEEK)
    )
    assert {f.responses for f in figures} == {2}
    assert len(figures) == len(deltas) // 3
    series = await store.weekly_series(network_id=EVENT.network_id, since=WEEK - timedelta(weeks=1))
    assert {s.scope.level for s in series} >= {ScopeLevel.NETWORK, ScopeLevel.SITE}
    assert await store.networks() == [EVENT.network_id]


def _record(number: int, *, negative: bool, at: datetime) -> CommentRecord:
    return CommentRecord(
        comment_id=f"c-{number}",
        network_id="net",
        scope_keys=("net/level:network", "net/level:site/site:lyon"),
        at=at,
        source="survey",
        themes=("platform",) if negative else (),
        negative=negative,
        stems=("connexion", "plateform"),
        event_id=f"e-{number}",
    )


async def test_comment_records_are_kept_once_and_found_by_scope_and_time(
    client: Client, isolation: str
) -> None:
    comments = MongoCommentStore(client, f"analyzer_{isolation}")
    await comments.create_indexes()
    records = [_record(n, negative=n % 2 == 0, at=WEEK + timedelta(hours=n)) for n in range(6)]
    await comments.keep(records=records)
    await comments.keep(records=records[:3])  # a redelivery

    examples = await comments.examples(
        network_id="net",
        scope_key="net/level:site/site:lyon",
        start=WEEK,
        end=WEEK + timedelta(days=7),
        limit=2,
    )
    stems, total = await comments.stem_counts(
        network_id="net", scope_key="net/level:network", start=WEEK, end=WEEK + timedelta(days=7)
    )

    assert [r.comment_id for r in examples] == ["c-0", "c-2"]
    assert examples[0] == records[0]
    assert total == 6
    assert stems["connexion"] == 6
    other, none = await comments.stem_counts(
        network_id="other", scope_key="net/level:network", start=WEEK, end=WEEK + timedelta(days=7)
    )
    assert (other, none) == ({}, 0)


async def test_degradations_round_trip_and_close(client: Client, isolation: str) -> None:
    degradations = MongoDegradationStore(client, f"analyzer_{isolation}")
    await degradations.create_indexes()
    observation = Observation(
        value=3.2, sample_size=41, period=Period(start=WEEK, end=WEEK + timedelta(days=7))
    )
    degradation = Degradation(
        degradation_id="d-1",
        key="net/level:site/site:lyon|mean_satisfaction|platform",
        scope=Scope(level=ScopeLevel.SITE, network_id="net", site_id="lyon"),
        metric=Metric.MEAN_SATISFACTION,
        dimension="platform",
        opened_week=WEEK,
        baseline=observation,
        current=observation,
    )
    await degradations.save(network_id="net", degradations=[degradation])
    await degradations.save(network_id="net", degradations=[degradation])  # a re-run

    assert await degradations.open_degradations(network_id="net") == {degradation.key: degradation}
    assert await degradations.count_open() == 1

    closed = replace(degradation, resolved_week=WEEK + timedelta(days=14))
    await degradations.save(network_id="net", degradations=[closed])
    await degradations.set_evaluated_through(network_id="net", week=WEEK)

    assert await degradations.open_degradations(network_id="net") == {}
    assert await degradations.degradations(network_id="net", open_only=False) == [closed]
    assert await degradations.evaluated_through(network_id="net") == WEEK


async def test_degradations_stored_before_the_rename_are_still_read(
    client: Client, isolation: str
) -> None:
    # Written as the analyzer stored its open "episodes": same collection, same fields.
    database = f"analyzer_{isolation}"
    observation = Observation(
        value=3.2, sample_size=41, period=Period(start=WEEK, end=WEEK + timedelta(days=7))
    )
    scope = Scope(level=ScopeLevel.SITE, network_id="net", site_id="lyon")
    await client[database]["episodes"].insert_one(
        {
            "_id": "d-1",
            "network_id": "net",
            "open": True,
            "key": "net/level:site/site:lyon|mean_satisfaction|platform",
            "scope": scope.model_dump(mode="json", exclude_none=True),
            "metric": "mean_satisfaction",
            "dimension": "platform",
            "opened_week": WEEK,
            "baseline": observation.model_dump(mode="json"),
            "current": observation.model_dump(mode="json"),
            "calm_weeks": 1,
            "resolved_week": None,
        }
    )
    degradations = MongoDegradationStore(client, database)

    [found] = (await degradations.open_degradations(network_id="net")).values()
    await degradations.save(network_id="net", degradations=[replace(found, calm_weeks=0)])

    assert (found.degradation_id, found.scope, found.calm_weeks) == ("d-1", scope, 1)
    assert found.baseline == observation
    assert await client[database]["episodes"].count_documents({"_id": "d-1", "calm_weeks": 0}) == 1
