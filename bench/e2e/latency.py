"""End-to-end latency: the collector's 2xx to the analyzer's ``DegradationDetected``.

    python -m bench.e2e.latency [--rate 8] [--networks 8] [--lanes 2]

Collector and analyzer run as their own processes on a fresh topic prefix and databases.
Survey responses are posted one per request at a steady rate. Each network (one site) gets
a history made to be flagged: 4 weeks of 15 good responses (ratings 3-5, mean 4.2: the
detector's 60-rating baseline), a week of 30 bad ones (1-2, mean 1.5), then one response in
the following week: the *trigger*. A completed week is evaluated once a later week has data
(the analyzer's grace is set beyond the past weeks used here), so the degradation can only be
detected once the trigger is aggregated. Latency = first ``DegradationDetected`` of the
network read from the signals topic, minus the trigger's 2xx. Networks are spread over
``lanes`` interleaved streams so triggers keep arriving while the load goes on.

The analyzer's detection loop period (``--detection-interval``, 1 s here; 30 s by default in
the service) bounds the latency from below; it is reported with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from bench.common import (
    RESULTS_DIR,
    delete_topics,
    drop_databases,
    kafka_bootstrap,
    service,
    survey_response,
    token,
)
from boucle_contracts.feedback.v1 import ScaleAnswer
from boucle_contracts.registry import decode_event
from boucle_contracts.signals.v1 import TOPIC as SIGNALS_TOPIC
from boucle_contracts.signals.v1 import DegradationDetectedV1

LOG_DIR = RESULTS_DIR / "logs"
FIRST_WEEK = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday, long past
GOOD = (4, 5, 4, 5, 3)
BAD = (1, 2)
SITE = "site-e2e"


@dataclass(frozen=True)
class Post:
    network: str
    body: bytes
    trigger: bool


def history(network: str, run: str) -> list[Post]:
    """One network's responses in order; the last one is the trigger."""
    answer = survey_response(0, run).answers[0]
    assert isinstance(answer, ScaleAnswer)
    posts: list[Post] = []

    def post(n: int, when: datetime, rating: int, *, trigger: bool = False) -> None:
        data = survey_response(
            n,
            f"{run}-{network}",
            submitted_at=when,
            answers=(answer.model_copy(update={"value": float(rating), "dimension": "overall"}),),
            training=None,
            comments=(),
        )
        posts.append(Post(network, data.model_dump_json(exclude_none=True).encode(), trigger))

    n = 0
    for week in range(4):
        for i in range(15):
            post(n, FIRST_WEEK + timedelta(weeks=week, hours=10 + i), GOOD[i % len(GOOD)])
            n += 1
    for i in range(30):
        post(n, FIRST_WEEK + timedelta(weeks=4, hours=10 + i), BAD[i % len(BAD)])
        n += 1
    post(n, FIRST_WEEK + timedelta(weeks=5, hours=10), GOOD[0], trigger=True)
    return posts


def schedule(networks: list[str], lanes: int, run: str) -> list[Post]:
    """Networks dealt to lanes; lanes interleaved one post at a time, lane k starting
    k/lanes of a network later, so that triggers are spread over the run."""
    streams: list[list[Post | None]] = [[] for _ in range(lanes)]
    per_network = len(history(networks[0], run))
    for lane in range(lanes):
        streams[lane] += [None] * (lane * per_network // lanes)
    for index, network in enumerate(networks):
        streams[index % lanes] += history(network, run)
    order: list[Post] = []
    for step in range(max(len(s) for s in streams)):
        order += [post for s in streams if step < len(s) and (post := s[step]) is not None]
    return order


async def watch(
    topic: str, found: dict[str, float], expected: int, stop: asyncio.Event, complete: asyncio.Event
) -> None:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap(), auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    event = decode_event(record.value or b"")
                    if isinstance(event, DegradationDetectedV1):
                        found.setdefault(event.network_id, now)
            if len(found) >= expected:
                complete.set()
    finally:
        await consumer.stop()


async def send_steady(url: str, posts: list[Post], rate: float) -> tuple[dict[str, float], float]:
    """Posts at ``rate`` per second (open loop); returns the triggers' 2xx times and the
    achieved rate."""
    accepted: dict[str, float] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def one(post: Post) -> None:
            reply = await http.post(
                f"/v1/networks/{post.network}/sites/{SITE}/survey-responses",
                content=post.body,
                headers={"content-type": "application/json"},
            )
            if reply.status_code != 202:
                raise RuntimeError(f"collector answered {reply.status_code}: {reply.text[:300]}")
            if post.trigger:
                accepted[post.network] = time.perf_counter()

        started = time.perf_counter()
        tasks = []
        for index, post in enumerate(posts):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(post)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return accepted, len(posts) / elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


async def bench_latency(
    *, rate: float, networks: int, lanes: int, detection_interval: float, within: float = 300.0
) -> dict[str, Any]:
    run = token()
    names = [f"e2e-{run}-{i:03d}" for i in range(networks)]
    posts = schedule(names, lanes, run)
    extra = {
        "BOUCLE_ANALYZER_DETECTION_INTERVAL_SECONDS": str(detection_interval),
        "BOUCLE_ANALYZER_DETECTION_GRACE_HOURS": "0",  # the trigger completes the week
        "BOUCLE_ANALYZER_DETECTION_MAX_WEEKS_PER_RUN": "8",
    }
    collector = service("collector", run, log_dir=LOG_DIR, extra_env=extra)
    analyzer = service("analyzer", run, log_dir=LOG_DIR, extra_env=extra)
    detected: dict[str, float] = {}
    stop, complete = asyncio.Event(), asyncio.Event()
    try:
        await collector.start()
        await analyzer.start()
        watcher = asyncio.create_task(
            watch(f"{run}.{SIGNALS_TOPIC}", detected, networks, stop, complete)
        )
        accepted, achieved = await send_steady(collector.url, posts, rate)
        with contextlib.suppress(TimeoutError):  # those not detected by then are reported
            await asyncio.wait_for(complete.wait(), within)
        stop.set()
        await watcher
    finally:
        stop.set()
        collector.stop()
        analyzer.stop()
        with contextlib.suppress(Exception):
            await delete_topics(kafka_bootstrap(), run)
            await drop_databases(run)
    latencies = [detected[n] - accepted[n] for n in names if n in detected and n in accepted]
    if not latencies:
        raise RuntimeError(f"no degradation detected:\n{analyzer.log_tail()}")
    return {
        "name": "e2e_latency",
        "measured": "collector 2xx -> DegradationDetected on the signals topic",
        "target_rate": rate,
        "achieved_rate": round(achieved, 2),
        "events": len(posts),
        "networks": networks,
        "detected": len(latencies),
        "detection_interval_seconds": detection_interval,
        "p50": round(percentile(latencies, 50), 3),
        "p95": round(percentile(latencies, 95), 3),
        "p99": round(percentile(latencies, 99), 3),
        "max": round(max(latencies), 3),
        "target_p95": 2.0,
        "met": percentile(latencies, 95) < 2.0 and achieved >= 1000 * 0.95,
        "latencies": [round(x, 3) for x in latencies],
    }


async def main_async(args: argparse.Namespace) -> int:
    result = await bench_latency(
        rate=args.rate,
        networks=args.networks,
        lanes=args.lanes,
        detection_interval=args.detection_interval,
    )
    print(
        f"e2e: {result['detected']}/{result['networks']} detected at {result['achieved_rate']} "
        f"events/s: p50 {result['p50']} s, p95 {result['p95']} s, p99 {result['p99']} s"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.e2e.latency", description=__doc__)
    parser.add_argument("--rate", type=float, default=8.0, help="events per second posted")
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--detection-interval", type=float, default=1.0)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
