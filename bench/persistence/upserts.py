"""Analyzer persistence: repository upserts per second against raw PyMongo bulk writes.

    python -m bench.persistence.upserts [--events 200] [--reps 3]

The same upserts both ways, on the same server (``MONGODB_URI``; FerretDB locally): the
aggregate deltas of N survey responses (the contract example over 60 days: 4 scopes x 3
granularities each), applied event by event, one batch per event and granularity as the
analyzer does. System: the analyzer's ``MongoAggregateStore``. Baseline: ``bulk_write`` of
``UpdateOne(upsert=True)`` carrying the very statements the store sends (same filter on the
offset watermark, same ``$inc``/``$set``/``$setOnInsert``), unordered, same batches. Each
run has its own database; afterwards, both must hold the same counters.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne

from bench.common import (
    Comparison,
    CpuMeter,
    Sample,
    interleaved,
    mongodb_uri,
    print_comparison,
    site_of,
    survey_response,
    token,
)
from boucle_analyzer.adapters import mongo_aggregates
from boucle_analyzer.adapters.mongo_aggregates import COLLECTIONS, MongoAggregateStore
from boucle_analyzer.domain.aggregation import AggregateDelta, deltas_for
from boucle_analyzer.domain.ports import Position
from boucle_contracts.metrics.v1 import Granularity

Document = dict[str, Any]
Work = list[tuple[list[AggregateDelta], Position, str]]  # per event: deltas, position, id


def workload(events: int, run: str) -> Work:
    network, site = site_of()
    first = survey_response(0, run).submitted_at
    work: Work = []
    for n in range(events):
        response = survey_response(n, run, submitted_at=first + timedelta(days=n % 60))
        work.append(
            (deltas_for(network, site, response), Position("bench.feedback", 0, n), f"ev-{n}")
        )
    return work


# --- the two sides: the only places that know the repository's API ------------------------


async def repository_apply(
    store: MongoAggregateStore, deltas: Sequence[AggregateDelta], position: Position, event_id: str
) -> None:
    """The analyzer's repository call for one event (isolated: its API may change)."""
    await store.apply_all(deltas=deltas, position=position, event_id=event_id)


def statement(delta: AggregateDelta, position: Position, event_id: str) -> Document:
    """The update statement the repository sends for one delta (filter, update, upsert)."""
    return mongo_aggregates._update(delta, position, event_id, upsert=True)


async def raw_apply(
    client: AsyncMongoClient[Document],
    database: str,
    deltas: Sequence[AggregateDelta],
    position: Position,
    event_id: str,
) -> None:
    for granularity in Granularity:
        batch = [statement(d, position, event_id) for d in deltas if d.granularity is granularity]
        if batch:
            await client[database][COLLECTIONS[granularity]].bulk_write(
                [UpdateOne(s["q"], s["u"], upsert=True) for s in batch], ordered=False
            )


# --- runs ---------------------------------------------------------------------------------


async def counters(client: AsyncMongoClient[Document], database: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in COLLECTIONS.values():
        async for document in client[database][name].find({}, {"responses": 1, "revision": 1}):
            found[document["_id"]] = (document.get("responses"), document.get("revision"))
    return found


async def _run(work: Work, *, raw: bool, fingerprints: list[dict[str, Any]]) -> Sample:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri(), tz_aware=True)
    database = f"bench_upserts_{token()}"
    store = MongoAggregateStore(client, database)
    try:
        await store.create_indexes()  # both sides: same collections, same indexes
        meter = CpuMeter.of(database=True)
        meter.start()
        started = time.perf_counter()
        for deltas, position, event_id in work:
            if raw:
                await raw_apply(client, database, deltas, position, event_id)
            else:
                await repository_apply(store, deltas, position, event_id)
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
        fingerprints.append(await counters(client, database))
    finally:
        await client.drop_database(database)
        await client.close()
    upserts = sum(len(deltas) for deltas, _, _ in work)
    return Sample(upserts, elapsed, cpu, {"events": len(work), "documents": len(fingerprints[-1])})


async def bench_persistence(*, events: int, reps: int) -> Comparison:
    work = workload(events, token())
    prints: list[dict[str, Any]] = []
    systems, baselines = await interleaved(
        reps,
        lambda _: _run(work, raw=True, fingerprints=prints),
        lambda _: _run(work, raw=False, fingerprints=prints),
    )
    if any(p != prints[0] for p in prints):
        raise RuntimeError("repository and raw bulk writes left different aggregates")
    return Comparison(
        name="persistence",
        unit="upserts/s",
        target=0.80,
        system=systems,
        baseline=baselines,
        system_cpu_parts=("bench", "database"),
        baseline_cpu_parts=("bench", "database"),
        note=f"{events} events, {len(work[0][0])} upserts each in one batch per granularity; "
        "baseline: AsyncMongoClient bulk_write(UpdateOne(upsert=True), ordered=False) of the "
        "same statements and batches",
    )


async def main_async(args: argparse.Namespace) -> int:
    print_comparison(await bench_persistence(events=args.events, reps=args.reps))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.persistence.upserts", description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
