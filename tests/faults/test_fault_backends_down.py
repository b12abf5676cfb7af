"""Kafka, then MongoDB (FerretDB), stopped under load: nothing accepted is lost or doubled."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.faults.conftest import PrivateBackends
from tests.faults.support import (
    committed,
    eventually,
    post_accepted,
    post_response,
    published,
    reported,
    settled_aggregate,
)
from tools.localstack import Stack

pytestmark = pytest.mark.e2e


async def test_kafka_down_gives_503_and_intake_resumes_on_its_own(
    fault_stack: Stack, private_backends: PrivateBackends
) -> None:
    stack = fault_stack
    accepted = await post_accepted(stack, range(5))
    private_backends.stop("kafka")
    refused: list[int] = []
    try:
        async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
            for n in range(5, 8):
                reply = await post_response(http, n)
                assert reply.status_code == 503, reply.text
                assert reply.headers.get("retry-after"), reply.headers
                # Kafka may have the event after all: the outcome is unknown, and a retry
                # with the same event id is safe (deduplicated).
                assert reply.json()["outcome"] == "unknown", reply.text
                assert reply.json()["event_id"], reply.text
                refused.append(n)
    finally:
        private_backends.start("kafka")

    # The senders retry what got a 503: the collector's producer reconnects by itself.
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        pending = [*refused, 8, 9]
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            reply = await post_response(http, pending[0])
            if reply.status_code == 202:
                accepted.add(reply.json()["event_id"])
                pending.pop(0)
            else:
                assert reply.status_code == 503, reply.text
                await asyncio.sleep(1)
        assert not pending, f"intake did not resume\n{stack.diagnostics()}"

    assert len(accepted) == 10
    # A 503 may hide a late success (acknowledged after the timeout): the retry then carries
    # the same event id, so at most a duplicate on the topic, never a double count.
    assert await published(stack) >= 10
    assert await settled_aggregate(stack, 10) == (10, 10)
    assert await reported(stack, expected=10) == 10


async def test_mongodb_down_consumers_wait_without_committing_then_resume(
    fault_stack: Stack, private_backends: PrivateBackends
) -> None:
    stack = fault_stack
    accepted = await post_accepted(stack, range(8))
    assert await settled_aggregate(stack, 8) == (8, 8)
    await eventually("offsets committed", lambda: _committed_at_least(stack, 8), stack)

    private_backends.stop("mongo")
    try:
        accepted |= await post_accepted(stack, range(8, 16))  # intake needs Kafka only
        analyzer = stack["analyzer"].url

        async def mongodb_down() -> bool:
            async with httpx.AsyncClient(timeout=5) as http:
                reply = await http.get(f"{analyzer}/health/ready")
            checks = reply.json().get("checks", {})
            return reply.status_code == 503 and checks == {"kafka": "up", "mongodb": "down"}

        await eventually("analyzer readiness reports mongodb down", mongodb_down, stack)
        for _ in range(4):  # the handler keeps failing and retrying: no commit moves on
            assert await committed(stack) <= 8
            await asyncio.sleep(1)
    finally:
        private_backends.start("mongo")

    assert len(accepted) == 16
    assert await published(stack) == 16
    assert await settled_aggregate(stack, 16) == (16, 16)
    assert await reported(stack, expected=16) == 16
    await eventually("offsets committed", lambda: _committed_at_least(stack, 16), stack)
    assert await committed(stack) == 16


async def _committed_at_least(stack: Stack, count: int) -> bool:
    return await committed(stack) >= count
