"""The demo's loop: degradations found and grouped into problems, one draft per problem
accepted and carried out, then evaluated.

Acts as the network's quality lead (a ``LocalIssuer`` token) on the actions service's API:
fills the owner, due date and measures of each drafted action, proposes, validates, starts
and finishes it, then asks for its evaluation (effective where satisfaction recovered).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from boucle_contracts.problems.v1 import TOPIC as PROBLEMS_TOPIC
from boucle_contracts.problems.v1 import ProblemOpenedV1
from boucle_contracts.registry import decode_event
from tools.localstack import Stack
from tools.sample_network import SampleNetwork

SETTLE_POLLS = 4  # degradations unchanged over this many polls: detection has caught up
WAIT_SECONDS = 240.0
STEPS = ("proposed", "validated", "in_progress", "done")


def client(stack: Stack, service: str, network: SampleNetwork) -> httpx.AsyncClient:
    token = stack.config.issuer.token(network_id=network.network_id)
    return httpx.AsyncClient(
        base_url=stack[service].url, timeout=60, headers={"authorization": f"Bearer {token}"}
    )


async def wait_for_degradations(stack: Stack, network: SampleNetwork) -> list[dict[str, Any]]:
    """The analyzer's degradations once detection has evaluated every week (no change any more)."""
    deadline, seen, stable = time.monotonic() + WAIT_SECONDS, -1, 0
    url = f"/v1/networks/{network.network_id}/degradations"
    async with client(stack, "analyzer", network) as http:
        while time.monotonic() < deadline:
            body = (await http.get(url, params={"status": "all"})).raise_for_status().json()
            items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
            stable = stable + 1 if len(items) == seen else 0
            seen = len(items)
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


async def carry_out(stack: Stack, network: SampleNetwork) -> Counter[str]:
    """Every drafted action accepted, carried out and evaluated: ``title → status`` counts."""
    base = f"/v1/networks/{network.network_id}/actions"
    outcomes: Counter[str] = Counter()
    async with client(stack, "actions", network) as http:
        for listed in await _actions(http, network, source="degradation"):
            action = listed
            url = f"{base}/{action['action_id']}"
            if action["status"] == "draft":
                where = action.get("site_id") or "reseau"
                action = (
                    (
                        await http.patch(
                            url,
                            json={
                                "expected_revision": action["revision"],
                                "owner": f"resp-{where}",
                                "due_date": (network.today + timedelta(days=30)).isoformat(),
                                "measures": [
                                    "Analyser la cause avec l'équipe du site",
                                    "Corriger et informer les apprenants",
                                ],
                            },
                        )
                    )
                    .raise_for_status()
                    .json()
                )
                for step in STEPS:
                    action = (
                        (
                            await http.post(
                                f"{url}/transitions",
                                json={"to": step, "expected_revision": action["revision"]},
                            )
                        )
                        .raise_for_status()
                        .json()
                    )
            if action["status"] == "done":
                action = (await http.post(f"{url}/evaluation")).raise_for_status().json()
            outcomes[f"{action['title']} → {action['status']}"] += 1
    return outcomes


async def readiness(stack: Stack, network: SampleNetwork) -> Counter[str]:
    """The reporter's readiness gaps, counted by code."""
    async with client(stack, "reporter", network) as http:
        body = (
            (await http.get(f"/v1/networks/{network.network_id}/readiness"))
            .raise_for_status()
            .json()
        )
    gaps = body.get("findings", []) if isinstance(body, dict) else body  # the JSON key stays
    return Counter(str(f.get("code", "?")) for f in gaps)


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
