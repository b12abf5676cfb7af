"""Poison messages: dead-lettered with their reason, the consumer goes on; list and replay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from tests.faults.support import (
    post_accepted,
    produce_raw,
    published,
    reported,
    response_event,
    settled_aggregate,
)
from tools.localstack import Stack

pytestmark = pytest.mark.e2e


def deadletters(stack: Stack, *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tools.deadletters", *args, "--group", "boucle-analyzer"),
            *("--topic-prefix", stack.config.topic_prefix),
            *("--bootstrap", stack.config.kafka_bootstrap),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


async def test_poison_is_dead_lettered_listed_and_replayed_once(
    fault_stack: Stack, tmp_path: Path
) -> None:
    stack = fault_stack
    good = response_event(1)
    broken: dict[str, Any] = json.loads(good.to_json_bytes())
    del broken["data"]["survey_id"]  # valid JSON, breaks the contract
    await produce_raw(
        stack,
        FEEDBACK_TOPIC,
        [
            (good.partition_key, b"\xff\xfe{not json", {}),
            (good.partition_key, json.dumps(broken).encode(), {"ce_id": good.id}),
        ],
    )
    await post_accepted(stack, range(3))  # behind the poison, on the same partition

    assert await settled_aggregate(stack, 3) == (3, 3)  # the consumer went on
    parked = deadletters(stack, "list")
    assert len(parked) == 2, parked
    for letter in parked:
        assert letter["reason"], letter
        assert letter["error"], letter
        assert letter["original_topic"] == f"{stack.config.topic_prefix}{FEEDBACK_TOPIC}"
        assert letter["consumer_group"] == f"{stack.config.topic_prefix}boucle-analyzer"
        assert "value" not in letter  # values (personal data) only on request
    contract_breach = next(d for d in parked if d["event_id"] == good.id)
    assert "survey_id" in contract_breach["error"]

    corrected = tmp_path / "corrected.json"
    corrected.write_bytes(good.to_json_bytes())
    only = ["--only", contract_breach["position"], "--value-file", str(corrected)]
    for _ in range(2):  # a replay is idempotent: the event id was applied once
        assert deadletters(stack, "replay", *only) == [
            {"replayed": contract_breach["position"], "to": contract_breach["original_topic"]}
        ]

    assert await published(stack) == 2 + 3 + 2
    assert await settled_aggregate(stack, 4) == (4, 4)
    assert await reported(stack, expected=4) == 4
    assert len(deadletters(stack, "list")) == 2  # nothing new parked
