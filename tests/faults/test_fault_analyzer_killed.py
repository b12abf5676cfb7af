"""The analyzer SIGKILLed while consuming, then restarted: aggregates end exact."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.support import (
    aggregated,
    eventually,
    kill_hard,
    post_accepted,
    published,
    reported,
    restart,
    settled_aggregate,
)
from tools.localstack import Stack

pytestmark = pytest.mark.e2e


async def test_analyzer_killed_mid_stream_ends_exact(fault_stack: Stack) -> None:
    stack = fault_stack
    accepted = await post_accepted(stack, range(40))

    async def consuming() -> bool:
        return (await aggregated(stack))[0] > 0

    await eventually("the analyzer started consuming", consuming, stack)
    kill_hard(stack["analyzer"])
    at_kill = (await aggregated(stack))[0]
    accepted |= await post_accepted(stack, range(40, 60))  # intake goes on meanwhile
    await asyncio.sleep(0.5)
    restart(stack, "analyzer")

    assert len(accepted) == 60
    assert await published(stack) == 60
    assert await settled_aggregate(stack, 60) == (60, 60), f"killed at {at_kill}"
    assert await reported(stack, expected=60) == 60
