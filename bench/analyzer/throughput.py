"""Analyzer throughput: events consumed and persisted per second, against raw consumption.

    python -m bench.analyzer.throughput [--events 200] [--reps 3]

Measured at the service's process boundary only (topics in, committed offsets and aggregates
out), so it holds whatever the persistence inside looks like. Each run: the analyzer
(``boucle-analyzer``, its own process) starts on a fresh topic prefix and database; once it
is ready, N survey responses, as the collector publishes them, are produced onto its feedback
topic; the run ends when the analyzer's consumer group has committed offsets summing to N
(it commits only after persisting). The network's month aggregate must then count exactly N
responses. Baseline: a raw aiokafka consumer reading the same topic from earliest until it
has exactly N messages, then committing, as a consumer that persisted nothing would.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from bench.common import (
    RESULTS_DIR,
    Comparison,
    CpuMeter,
    Record,
    Sample,
    as_record,
    committed,
    delete_topics,
    drop_databases,
    kafka_bootstrap,
    mongodb_uri,
    partitions_of,
    print_comparison,
    producer,
    service,
    site_of,
    survey_response,
    token,
)
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC

LOG_DIR = RESULTS_DIR / "logs"
GROUP = "boucle-analyzer"


async def produce(topic: str, records: list[Record]) -> None:
    client = producer(kafka_bootstrap())
    await client.start()
    try:
        futures = [
            await client.send(topic, value, key=key, headers=headers)
            for key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await client.stop()


async def aggregated_responses(database: str, network: str) -> int:
    """Responses in the network's month aggregates (every bench event is in one month)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri())
    try:
        total = 0
        async for document in client[database]["aggregates"].find(
            {"scope.level": "network", "scope.network_id": network}
        ):
            total += int(document.get("responses", 0))
        return total
    finally:
        await client.close()


async def wait_committed(group: str, topic: str, expected: int, within: float) -> int:
    deadline = time.monotonic() + within
    done = 0
    while time.monotonic() < deadline:
        done = await committed(kafka_bootstrap(), group, topic)
        if done >= expected:
            return done
        await asyncio.sleep(0.1)
    return done


class Runs:
    """One topic per system run; the baseline run after it reads that same topic."""

    def __init__(self, events: int, timeout: float) -> None:
        self.events = events
        self.timeout = timeout
        self.topics: list[str] = []
        self.runs: list[str] = []

    async def system(self, rep: int) -> Sample:
        run = token()
        network, site = site_of()
        records = [
            as_record(survey_response(n, run), network, site, "api") for n in range(self.events)
        ]
        server = service("analyzer", run, log_dir=LOG_DIR)
        await server.start()
        topic = f"{run}.{FEEDBACK_TOPIC}"
        self.topics.append(topic)
        self.runs.append(run)
        try:
            meter = CpuMeter.of(server.pid, database=True)
            meter.start()
            started = time.perf_counter()
            await produce(topic, records)
            done = await wait_committed(f"{run}.{GROUP}", topic, self.events, self.timeout)
            elapsed = time.perf_counter() - started
            cpu = meter.stop()
        finally:
            server.stop()
        if done != self.events:
            raise RuntimeError(
                f"analyzer committed {done} of {self.events} in {self.timeout}s:\n"
                + server.log_tail()
            )
        counted = await aggregated_responses(f"boucle_analyzer_{run}", network)
        if counted != self.events:
            raise RuntimeError(f"analyzer aggregated {counted} responses, {self.events} sent")
        await drop_databases(run)
        return Sample(done, elapsed, cpu, {"aggregated": counted})

    async def baseline(self, rep: int) -> Sample:
        topic = self.topics[rep]
        partitions = await partitions_of(kafka_bootstrap(), topic)
        meter = CpuMeter.of()
        meter.start()
        started = time.perf_counter()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap(),
            group_id=f"{topic}.raw",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            seen = 0
            while seen < self.events and time.perf_counter() - started < self.timeout:
                batch = await consumer.getmany(timeout_ms=200)
                seen += sum(len(records) for records in batch.values())
            await consumer.commit()
        finally:
            await consumer.stop()
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
        if seen != self.events:
            raise RuntimeError(f"raw consumer read {seen} of {self.events}")
        return Sample(seen, elapsed, cpu)

    async def cleanup(self) -> None:
        for run in self.runs:
            await delete_topics(kafka_bootstrap(), run)
            await drop_databases(run)


async def bench_analyzer(*, events: int, reps: int, within: float = 600.0) -> Comparison:
    runs = Runs(events, within)
    try:
        systems: list[Sample] = []
        baselines: list[Sample] = []
        # the baseline needs the system's topic: S B, then S B… (alternation is over reps)
        for rep in range(reps):
            systems.append(await runs.system(rep))
            baselines.append(await runs.baseline(rep))
    finally:
        await runs.cleanup()
    return Comparison(
        name="analyzer",
        unit="events/s",
        target=0.50,
        system=systems,
        baseline=baselines,
        system_cpu_parts=("service", "broker", "database"),
        baseline_cpu_parts=("bench", "broker"),
        note=f"{events} survey responses (the contract example: 4 scopes x 3 granularities, "
        "one comment) per run; system: produce, then wait for the group's commits to reach N; "
        "baseline: raw consumer of the same topic from earliest until N, then commit",
    )


async def main_async(args: argparse.Namespace) -> int:
    print_comparison(await bench_analyzer(events=args.events, reps=args.reps))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.analyzer.throughput", description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
