"""What the fault tests share: send responses, count them at every stage, restart a service."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import AnyEvent
from tools.deadletters import topic_partitions
from tools.localstack import ServiceProcess, Stack, StackError

T = TypeVar("T")
EXAMPLE = example_of(SurveyResponseSubmittedV1)
NETWORK = EXAMPLE.network_id
SITE = EXAMPLE.site_id or "lyon-part-dieu"
SETTLE_SECONDS = 60.0


def response_body(n: int) -> bytes:
    """The example response, as another respondent's (its own source id, hence event id)."""
    data = EXAMPLE.data.model_copy(update={"response_id": f"typeform:fault-{n}", "comments": ()})
    return data.model_dump_json(exclude_none=True).encode()


async def post_response(http: httpx.AsyncClient, n: int) -> httpx.Response:
    return await http.post(
        f"/v1/networks/{NETWORK}/sites/{SITE}/survey-responses",
        content=response_body(n),
        headers={"content-type": "application/json"},
    )


async def post_accepted(stack: Stack, numbers: range) -> set[str]:
    """Posts each response (sequentially); every one must be accepted. Returns event ids."""
    ids: set[str] = set()
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        for n in numbers:
            reply = await post_response(http, n)
            assert reply.status_code == 202, reply.text
            ids.add(reply.json()["event_id"])
    return ids


async def eventually(
    what: str, probe: Callable[[], Awaitable[T | None]], stack: Stack, within: float = 60.0
) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.3)
    pytest.fail(f"not reached within {within}s: {what}\n{stack.diagnostics()}")


async def aggregated(stack: Stack, *, site: str = SITE) -> tuple[int, int]:
    """The analyzer's month aggregate of the site: (responses, overall rating count)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.config.mongodb_uri, serverSelectionTimeoutMS=3000
    )
    try:
        found = await client[stack.config.database("analyzer")]["aggregates"].find_one(
            {"scope.level": "site", "scope.site_id": site, "granularity": "month"}
        )
    finally:
        await client.close()
    if found is None:
        return 0, 0
    return int(found["responses"]), int(found["dims"]["overall"]["count"])


async def settled_aggregate(stack: Stack, expected: int) -> tuple[int, int]:
    """Waits until the aggregate reaches ``expected``, then a little more: it must stay."""

    async def reached() -> tuple[int, int] | None:
        counts = await aggregated(stack)
        return counts if counts[0] >= expected else None

    await eventually(f"{expected} responses aggregated", reached, stack)
    await asyncio.sleep(1.5)  # anything counted twice would show up now
    return await aggregated(stack)


async def reported(stack: Stack, *, expected: int) -> int:
    """The response count in the reporter's tracking table, once it shows ``expected``."""
    token = stack.config.issuer.token(network_id=NETWORK)
    last = -1
    async with httpx.AsyncClient(
        base_url=stack["reporter"].url, timeout=10, headers={"authorization": f"Bearer {token}"}
    ) as http:

        async def count() -> int | None:
            nonlocal last
            reply = await http.get(f"/v1/networks/{NETWORK}/tracking-table.csv")
            assert reply.status_code == 200, reply.text
            rows = csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff")), delimiter=";")
            for row in rows:
                if row["Site"] == SITE and row["Source"] == "Analyse des appréciations":
                    last = int(row["Constat"].split(" ", 1)[0])
            return last if last == expected else None

        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline and await count() is None:
            await asyncio.sleep(0.3)
    return last


async def published(stack: Stack, topic: str = FEEDBACK_TOPIC) -> int:
    """How many messages the (prefixed) topic holds."""
    bootstrap = stack.config.kafka_bootstrap
    partitions = await topic_partitions(bootstrap, f"{stack.config.topic_prefix}{topic}")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        return int(sum(ends.values()))
    finally:
        await consumer.stop()


async def committed(
    stack: Stack, group: str = "boucle-analyzer", topic: str = FEEDBACK_TOPIC
) -> int:
    """The sum over partitions of the group's committed offsets on the topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.config.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(f"{stack.config.topic_prefix}{group}")
    finally:
        await admin.close()
    name = f"{stack.config.topic_prefix}{topic}"
    return int(sum(meta.offset for tp, meta in offsets.items() if tp.topic == name))


def kill_hard(service: ServiceProcess) -> None:
    assert service.process is not None
    service.process.kill()  # SIGKILL: no drain, no commit, no close
    service.process.wait(timeout=10)


def restart(stack: Stack, name: str, *, timeout: float = 60.0) -> None:
    """Starts a stopped or killed service again, same port and settings, log appended."""
    service = stack[name]
    with Path(service.log_path).open("ab") as log:
        service.process = subprocess.Popen(
            [str(Path(sys.executable).parent / f"boucle-{name}")],
            env=stack.config.environment(name, service.port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        Stack._wait_ready(service, timeout)
    except StackError as error:
        pytest.fail(str(error))


async def produce_raw(
    stack: Stack, topic: str, values: list[tuple[bytes, bytes, dict[str, str]]]
) -> None:
    """Straight onto the (prefixed) topic, as a misbehaving producer would."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, headers in values:
            await producer.send_and_wait(
                f"{stack.config.topic_prefix}{topic}",
                value=value,
                key=key,
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
    finally:
        await producer.stop()


async def produce_events(stack: Stack, events: list[AnyEvent]) -> None:
    """Well-formed events, encoded as the services publish them."""
    await produce_raw(
        stack,
        events[0].TOPIC,
        [(e.partition_key, e.to_json_bytes(), wire.headers_for(e)) for e in events],
    )


def response_event(n: int) -> SurveyResponseSubmittedV1:
    """What the collector would publish for response ``n``, with an id of its own."""
    data = EXAMPLE.data.model_copy(update={"response_id": f"typeform:direct-{n}"})
    return EXAMPLE.model_copy(
        update={"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fault-test/{n}")), "data": data}
    )


async def network_responses(stack: Stack) -> int:
    """The analyzer's response count for the whole network, from its figures API (months)."""
    token = stack.config.issuer.token(network_id=NETWORK)
    async with httpx.AsyncClient(
        base_url=stack["analyzer"].url, timeout=10, headers={"authorization": f"Bearer {token}"}
    ) as http:
        reply = await http.get(
            f"/v1/networks/{NETWORK}/figures",
            params={"level": "network", "granularity": "month", "limit": 5000},
        )
    assert reply.status_code == 200, reply.text
    return sum(int(figure["responses"]) for figure in reply.json())


async def evidence_verification(stack: Stack) -> dict[str, Any]:
    """The reporter's walk of the network's evidence chain (its API route)."""
    token = stack.config.issuer.token(network_id=NETWORK)
    async with httpx.AsyncClient(
        base_url=stack["reporter"].url, timeout=60, headers={"authorization": f"Bearer {token}"}
    ) as http:
        reply = await http.get(f"/v1/networks/{NETWORK}/evidence/verification")
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


async def id_counts(stack: Stack, service: str, collection: str, field: str) -> dict[str, int]:
    """How many documents of a service's collection hold each value of ``field``."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.config.mongodb_uri, serverSelectionTimeoutMS=3000
    )
    counts: dict[str, int] = {}
    try:
        cursor = client[stack.config.database(service)][collection].find({}, {field: 1})
        async for doc in cursor:
            if field in doc:
                counts[str(doc[field])] = counts.get(str(doc[field]), 0) + 1
    finally:
        await client.close()
    return counts


async def dead_lettered(stack: Stack) -> dict[str, int]:
    """Messages on each of the stack's dead-letter topics (by topic; empty ones included)."""
    bootstrap = stack.config.kafka_bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [
            t
            for t in await admin.list_topics()
            if t.startswith(stack.config.topic_prefix) and ".deadletter." in t
        ]
    finally:
        await admin.close()
    counts: dict[str, int] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        for topic in topics:
            ends = await consumer.end_offsets(await topic_partitions(bootstrap, topic))
            counts[topic] = int(sum(ends.values()))
    finally:
        await consumer.stop()
    return counts


async def lag(stack: Stack, group: str) -> int:
    """Messages of the stack's topics (dead letters aside) the group has not committed yet."""
    bootstrap = stack.config.kafka_bootstrap
    prefix = stack.config.topic_prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [
            t for t in await admin.list_topics() if t.startswith(prefix) and ".deadletter." not in t
        ]
        done = await admin.list_consumer_group_offsets(f"{prefix}{group}")
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends: dict[Any, int] = {}
        for topic in topics:
            ends |= await consumer.end_offsets(await topic_partitions(bootstrap, topic))
    finally:
        await consumer.stop()
    return int(sum(end - (done[tp].offset if tp in done else 0) for tp, end in ends.items()))
