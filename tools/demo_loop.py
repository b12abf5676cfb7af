"""The demo's loop: degradations found and grouped into problems, one draft per problem;
then the people of the network act on cases and drafts in data time (``tools.demo_people``,
each with their own ``LocalIssuer`` token), and the reporter reads it all.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from boucle_contracts.problems.v1 import TOPIC as PROBLEMS_TOPIC
from boucle_contracts.problems.v1 import ProblemOpenedV1
from boucle_contracts.registry import decode_event
from tools.demo_people import (
    ACKNOWLEDGE_HOURS,
    ANSWER_DAYS,
    Api,
    carry_out_actions,
    correct_the_wave,
    handle_cases,
    meetings,
    next_meeting,
    record_meetings,
)
from tools.localstack import Stack
from tools.sample_network import SampleNetwork

SETTLE_POLLS = 4  # weeks evaluated and degradations unchanged over this many polls: caught up
EVALUATIONS_METRIC = "boucle_analyzer_detection_evaluations_total"
WAIT_SECONDS = 240.0


def client(stack: Stack, service: str, network: SampleNetwork) -> httpx.AsyncClient:
    token = stack.config.issuer.token(network_id=network.network_id)
    return httpx.AsyncClient(
        base_url=stack[service].url, timeout=60, headers={"authorization": f"Bearer {token}"}
    )


async def weeks_evaluated(http: httpx.AsyncClient) -> float:
    """Network-weeks the analyzer's detection has evaluated so far (its Prometheus counter)."""
    text = (await http.get("/metrics")).raise_for_status().text
    for line in text.splitlines():
        if line.startswith(EVALUATIONS_METRIC):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def wait_for_degradations(stack: Stack, network: SampleNetwork) -> list[dict[str, Any]]:
    """The analyzer's degradations once detection has evaluated every week: it has evaluated
    some, and neither that count nor the degradations changed over the last polls."""
    deadline, seen, stable = time.monotonic() + WAIT_SECONDS, (-1.0, -1), 0
    url = f"/v1/networks/{network.network_id}/degradations"
    async with client(stack, "analyzer", network) as http:
        while time.monotonic() < deadline:
            body = (await http.get(url, params={"status": "all"})).raise_for_status().json()
            items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
            now = (await weeks_evaluated(http), len(items))
            if now != seen:
                deadline = time.monotonic() + WAIT_SECONDS  # progress: wait on
            stable = stable + 1 if now == seen and now[0] > 0 else 0
            seen = now
            if stable >= SETTLE_POLLS:
                return items
            await asyncio.sleep(3)
    raise RuntimeError(f"degradations still changing after {WAIT_SECONDS}s ({seen} seen)")


async def problems_opened(stack: Stack, network: SampleNetwork) -> list[dict[str, Any]]:
    """The problems the analyzer opened for the network, read from the start of
    ``boucle.problems.v1`` (no group: nothing committed) until 3 s of silence, once each."""
    consumer = AIOKafkaConsumer(
        f"{stack.config.topic_prefix}{PROBLEMS_TOPIC}",
        bootstrap_servers=stack.config.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found: dict[str, dict[str, Any]] = {}
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=1000)
            idle = 0 if batch else idle + 1
            for messages in batch.values():
                for message in messages:
                    event = decode_event(message.value or b"")
                    if isinstance(event, ProblemOpenedV1) and event.network_id == (
                        network.network_id
                    ):
                        found[event.data.problem_id] = event.data.model_dump(mode="json")
        return list(found.values())
    finally:
        await consumer.stop()


async def _actions(http: httpx.AsyncClient, network: SampleNetwork, **params: str) -> list[Any]:
    url = f"/v1/networks/{network.network_id}/actions"
    items: list[Any] = (
        (await http.get(url, params={"limit": "200", **params})).raise_for_status().json()["items"]
    )
    return items


async def wait_for_drafts(stack: Stack, network: SampleNetwork, expected: int) -> list[Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    async with client(stack, "actions", network) as http:
        while True:
            drafts = await _actions(http, network, source="degradation")
            if len(drafts) >= expected or time.monotonic() > deadline:
                return drafts
            await asyncio.sleep(2)


@dataclass
class PeopleOutcome:
    """What the people did: cases by status, actions by outcome, meetings held."""

    cases: Counter[str]
    actions: Counter[str]
    meetings: int
    wave_action: str | None


async def act_as_people(stack: Stack, network: SampleNetwork) -> PeopleOutcome:
    """The site managers, the quality lead and the direction, in data time (``demo_people``):
    cases handled, drafts analysed and carried out, meetings recorded, measures evaluated."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    api = Api(stack["actions"].url, network, stack.config.issuer.token, now)
    try:
        rng = random.Random(network.seed)
        cases = await handle_cases(api, rng)
        held = meetings(network, now)
        story = await carry_out_actions(api, network, held)
        wave = await correct_the_wave(api, network, held)
        if wave is not None:
            story.decide(
                next_meeting(held, datetime.fromisoformat(wave["created_at"]) - timedelta(hours=2)),
                f"Action corrective décidée : {wave['title']}",
            )
        await record_meetings(api, network, held, story)
    finally:
        await api.close()
    return PeopleOutcome(cases, story.outcomes, len(held), wave["status"] if wave else None)


async def set_deadlines(stack: Stack, network: SampleNetwork) -> None:
    """The network's deadlines: acknowledge within 48 h, answer within 15 days."""
    async with client(stack, "actions", network) as http:
        body = {"acknowledge_within_hours": ACKNOWLEDGE_HOURS, "answer_within_days": ANSWER_DAYS}
        url = f"/v1/networks/{network.network_id}/settings/deadlines"
        (await http.put(url, json=body)).raise_for_status()


async def readiness(stack: Stack, network: SampleNetwork) -> list[dict[str, Any]]:
    """The reporter's readiness gaps, each with its code, site, subject and message."""
    async with client(stack, "reporter", network) as http:
        body = (
            (await http.get(f"/v1/networks/{network.network_id}/readiness"))
            .raise_for_status()
            .json()
        )
    gaps: list[dict[str, Any]] = body.get("findings", []) if isinstance(body, dict) else body
    return gaps  # the JSON key stays "findings"


async def backlog(stack: Stack, service: str) -> int:
    """Messages on the service's topics its consumer group has not committed yet."""
    bootstrap = stack.config.kafka_bootstrap
    group = f"{stack.config.topic_prefix}boucle-{service}"  # the prefix applies to groups too
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        ends = await consumer.end_offsets(list(committed))
        return sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
    finally:
        await consumer.stop()
        await admin.close()


async def wait_until_consumed(stack: Stack, service: str) -> None:
    """Until the service's group has committed everything (twice in a row: new messages,
    such as the figures of the last changes, may still be arriving); fails only when the
    backlog stops shrinking."""
    deadline, least, caught_up = time.monotonic() + WAIT_SECONDS, None, 0
    while caught_up < 2:
        left = await backlog(stack, service)
        caught_up = caught_up + 1 if left == 0 else 0
        if least is None or left < least:
            deadline, least = time.monotonic() + WAIT_SECONDS, left
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {service} still has {left} messages to read")
        await asyncio.sleep(2)
