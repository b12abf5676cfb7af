"""Collector intake: accepted events per second, against what Kafka alone allows.

    python -m bench.collector.intake [--bulk-requests 20] [--single 1000] [--reps 3]

bulk: NDJSON requests of 100 survey responses to the collector's bulk endpoint (HTTP in,
every line acknowledged by Kafka before the answer), against a raw aiokafka producer sending
the very records the collector publishes (same bytes, keys and headers; acks=all,
idempotent) 100 at a time and waiting for all of them (produce and flush).

single: one survey response per request to the native API, against a bare ASGI app
(``bench.collector.bare``) that parses the JSON and awaits an aiokafka send with the same
acks. Both are served by uvicorn in their own process with the same settings.

Each run starts the collector (or the bare app) on a fresh topic prefix and database, times
only the requests, then checks that the topic holds exactly the events accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx

from bench.common import (
    RESULTS_DIR,
    Comparison,
    CpuMeter,
    Record,
    Sample,
    Server,
    as_record,
    create_topic,
    delete_topics,
    drop_databases,
    interleaved,
    kafka_bootstrap,
    message_count,
    print_comparison,
    producer,
    python_env,
    service,
    site_of,
    survey_response,
    token,
)
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from tools.localstack import free_port

BULK_SIZE = 100
LOG_DIR = RESULTS_DIR / "logs"


def _bodies(run: str, count: int) -> list[bytes]:
    return [
        survey_response(n, run).model_dump_json(exclude_none=True).encode() for n in range(count)
    ]


async def _drive(
    bodies: Sequence[bytes],
    concurrency: int,
    send: Callable[[bytes], Awaitable[int]],
) -> int:
    """``concurrency`` workers sending the bodies in order; returns the events accepted."""
    queue = iter(bodies)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        for body in queue:
            count = await send(body)  # not `accepted += await …`: that reads before awaiting
            accepted += count

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted


async def _timed_http(
    server: Server,
    bodies: Sequence[bytes],
    concurrency: int,
    path: str,
    accepted: Callable[[httpx.Response], int],
    content_type: str,
) -> Sample:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:

        async def send(body: bytes) -> int:
            reply = await http.post(path, content=body, headers={"content-type": content_type})
            return accepted(reply)

        await http.get("/health/live")  # connection warm-up outside the timed window
        meter = CpuMeter.of(server.pid)
        meter.start()
        started = time.perf_counter()
        count = await _drive(bodies, concurrency, send)
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
    return Sample(count, elapsed, cpu)


def _bulk_accepted(reply: httpx.Response) -> int:
    if reply.status_code != 200:
        raise RuntimeError(f"bulk answered {reply.status_code}: {reply.text[:300]}")
    return int(reply.json()["accepted"])


def _single_accepted(reply: httpx.Response) -> int:
    if reply.status_code != 202:
        raise RuntimeError(f"intake answered {reply.status_code}: {reply.text[:300]}")
    return 1


async def _checked(sample: Sample, topic: str, expected: int) -> Sample:
    """The topic must hold exactly what was accepted: no loss, no duplicate."""
    held = await message_count(kafka_bootstrap(), topic)
    if sample.events != expected or held != expected:
        raise RuntimeError(
            f"{topic}: {sample.events} accepted, {held} on the topic, {expected} sent"
        )
    sample.detail["on_topic"] = held
    return sample


async def collector_run(bodies: Sequence[bytes], *, bulk: bool, concurrency: int) -> Sample:
    run = token()
    server = service("collector", run, log_dir=LOG_DIR)
    network, site = site_of()
    await server.start()
    try:
        if bulk:
            path = f"/v1/bulk/networks/{network}/sites/{site}/survey-responses"
            sample = await _timed_http(
                server, bodies, concurrency, path, _bulk_accepted, "application/x-ndjson"
            )
            expected = len(bodies) * BULK_SIZE
        else:
            path = f"/v1/networks/{network}/sites/{site}/survey-responses"
            sample = await _timed_http(
                server, bodies, concurrency, path, _single_accepted, "application/json"
            )
            expected = len(bodies)
        return await _checked(sample, f"{run}.{FEEDBACK_TOPIC}", expected)
    finally:
        server.stop()
        await delete_topics(kafka_bootstrap(), run)
        await drop_databases(run)


async def raw_produce_run(batches: Sequence[Sequence[Record]], *, concurrency: int) -> Sample:
    run = token()
    topic = f"{run}.raw"
    bootstrap = kafka_bootstrap()
    await create_topic(bootstrap, topic)
    client = producer(bootstrap)
    await client.start()
    try:
        await client.partitions_for(topic)  # metadata fetched outside the timed window

        async def send(batch: Sequence[Record]) -> int:
            futures = [
                await client.send(topic, value, key=key, headers=headers)
                for key, value, headers in batch
            ]
            await asyncio.gather(*futures)  # flushed: every record acknowledged
            return len(batch)

        meter = CpuMeter.of()
        meter.start()
        started = time.perf_counter()
        count = await _drive(batches, concurrency, send)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
    finally:
        await client.stop()
    try:
        return await _checked(Sample(count, elapsed, cpu), topic, sum(len(b) for b in batches))
    finally:
        await delete_topics(bootstrap, run)


async def bare_run(bodies: Sequence[bytes], *, concurrency: int) -> Sample:
    run = token()
    topic = f"{run}.bare"
    bootstrap = kafka_bootstrap()
    await create_topic(bootstrap, topic)
    port = free_port()
    server = Server(
        command=[sys.executable, "-m", "bench.collector.bare"],
        env=python_env()
        | {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "BENCH_BARE_TOPIC": topic,
            "BENCH_BARE_PORT": str(port),
        },
        port=port,
        log_path=LOG_DIR / f"bare-{run}.log",
    )
    network, site = site_of()
    await server.start()
    try:
        path = f"/v1/networks/{network}/sites/{site}/survey-responses"
        sample = await _timed_http(
            server, bodies, concurrency, path, _single_accepted, "application/json"
        )
        return await _checked(sample, topic, len(bodies))
    finally:
        server.stop()
        await delete_topics(bootstrap, run)


async def bench_bulk(*, requests: int, reps: int, concurrency: int) -> Comparison:
    run = token()
    network, site = site_of()
    lines = _bodies(run, requests * BULK_SIZE)
    bodies = [b"\n".join(lines[i : i + BULK_SIZE]) for i in range(0, len(lines), BULK_SIZE)]
    records = [as_record(survey_response(n, run), network, site, "bulk") for n in range(len(lines))]
    batches = [records[i : i + BULK_SIZE] for i in range(0, len(records), BULK_SIZE)]
    systems, baselines = await interleaved(
        reps,
        lambda _: raw_produce_run(batches, concurrency=concurrency),
        lambda _: collector_run(bodies, bulk=True, concurrency=concurrency),
    )
    return Comparison(
        name="collector_bulk",
        unit="events/s",
        target=0.50,
        system=systems,
        baseline=baselines,
        system_cpu_parts=("service", "broker"),
        baseline_cpu_parts=("bench", "broker"),
        note=f"{requests} requests of {BULK_SIZE} events, {concurrency} in flight; baseline: "
        f"aiokafka send of the same records {BULK_SIZE} at a time, then wait for all acks",
    )


async def bench_single(*, events: int, reps: int, concurrency: int) -> Comparison:
    bodies = _bodies(token(), events)
    systems, baselines = await interleaved(
        reps,
        lambda _: bare_run(bodies, concurrency=concurrency),
        lambda _: collector_run(bodies, bulk=False, concurrency=concurrency),
    )
    return Comparison(
        name="collector_single",
        unit="events/s",
        target=0.35,
        system=systems,
        baseline=baselines,
        system_cpu_parts=("service", "broker"),
        baseline_cpu_parts=("service", "broker"),
        note=f"{events} requests of one event, {concurrency} in flight; baseline: bare ASGI app "
        "(json.loads + aiokafka send_and_wait, acks=all) under the same uvicorn settings",
    )


async def main_async(args: argparse.Namespace) -> int:
    print_comparison(
        await bench_bulk(requests=args.bulk_requests, reps=args.reps, concurrency=args.concurrency)
    )
    print_comparison(
        await bench_single(events=args.single, reps=args.reps, concurrency=args.concurrency * 4)
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.collector.intake", description=__doc__)
    parser.add_argument("--bulk-requests", type=int, default=20)
    parser.add_argument("--single", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
