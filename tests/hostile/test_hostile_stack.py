"""Hostile callers against the running services: refused, no trace in the data or the logs.

One stack with a real integrations file (API keys and a Typeform webhook secret) on the
real broker and database. Forged signatures, cross-network writes and reads are refused;
afterwards the topic and the analyzer's store hold only what was legitimately accepted,
and no secret or personal datum sent appears in any service's captured log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.registry import decode_event
from tests.faults.support import eventually
from tests.stack import running
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    KEYS,
    PSEUDONYM_SECRET,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    write_integrations,
)
from tests.unit.collector.test_collector_webhooks_typeform import payload
from tools.deadletters import topic_partitions
from tools.localstack import LocalIssuer, Stack, StackConfig

pytestmark = pytest.mark.e2e

TYPEFORM_URL = "/v1/webhooks/typeform/tf-lyon"
EMAIL, PHONE, NAME = "jeanne.martin@exemple.fr", "07 98 76 54 32", "Jeanne Martin"
COMMENT = f"Merci à {NAME}, rappelez-moi au {PHONE} ou {EMAIL}"


@pytest.fixture
def guarded_stack(
    kafka_bootstrap: str,
    mongodb_uri: str,
    isolation: str,
    tmp_path: Path,
) -> Iterator[Stack]:
    """The stack with an integrations file: no unauthenticated intake."""
    integrations = write_integrations(
        tmp_path / "integrations.json", API_INTEGRATIONS + WEBHOOK_INTEGRATIONS
    )
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        topic_prefix=f"{isolation}.",
        database_suffix=f"_{isolation}",
        # the file names its secrets by variable: the collector gets them
        collector_env=SECRETS
        | {
            "BOUCLE_COLLECTOR_INTEGRATIONS_FILE": str(integrations),
            "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET": PSEUDONYM_SECRET,
            "BOUCLE_COLLECTOR_MAX_BODY_BYTES": "20000",
        },
        extra_env={"BOUCLE_ANALYZER_SNAPSHOT_INTERVAL_SECONDS": "0.3"},
    )
    with running(Stack(config=config, log_dir=tmp_path / "logs")) as stack:
        yield stack


def typeform_post(http: httpx.Client, document: dict[str, Any], secret: str) -> httpx.Response:
    from boucle_collector.adapters.webhook_formats import typeform

    body = json.dumps(document).encode()
    headers = {
        "Typeform-Signature": typeform.sign(secret, body),
        "content-type": "application/json",
    }
    return http.post(TYPEFORM_URL, content=body, headers=headers)


def native_response(response_id: str) -> dict[str, Any]:
    return {
        "response_id": response_id,
        "survey_id": "enquete-chaud",
        "survey_kind": "hot",
        "respondent_role": "learner",
        "submitted_at": "2025-03-14T16:41:00Z",
        "channel": "api",
        "answers": [
            {"question_id": "q1", "dimension": "overall", "type": "scale", "value": 4}
            | {"scale_min": 1, "scale_max": 5}
        ],
        "comments": [{"comment_id": f"{response_id}:c1", "text": COMMENT}],
    }


async def topic_events(stack: Stack) -> list[str]:
    """The ids of every event on the feedback topic."""
    bootstrap = stack.config.kafka_bootstrap
    partitions = await topic_partitions(bootstrap, f"{stack.config.topic_prefix}{FEEDBACK_TOPIC}")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        ids: list[str] = []
        for tp, end in ends.items():
            while await consumer.position(tp) < end:
                for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                    ids.append(decode_event(record.value or b"").id)
        return ids
    finally:
        await consumer.stop()


def hostile_then_legitimate_calls(stack: Stack) -> list[str]:
    """Every refused call checked on its answer; returns the ids of what was accepted."""
    accepted: list[str] = []
    with httpx.Client(base_url=stack["collector"].url, timeout=15) as http:
        forged = typeform_post(http, payload(token="forged"), "not-the-secret")
        assert forged.status_code == 401, forged.text
        assert "signature" in forged.text.lower()
        unsigned = http.post(TYPEFORM_URL, json=payload(token="unsigned"))
        assert unsigned.status_code == 401, unsigned.text

        oversized = payload(token="oversized")
        oversized["padding"] = "x" * 30_000
        too_big = typeform_post(http, oversized, SECRETS["TF_SECRET_NEW"])
        assert too_big.status_code == 413, too_big.text

        signed = typeform_post(http, payload(), SECRETS["TF_SECRET_NEW"])
        assert signed.status_code == 200, signed.text
        accepted.append(signed.json()["event_id"])

        lyon = {"x-api-key": KEYS["lyon-1"]}
        for network, site in (("net-2", "site-a"), ("net-1", "site-z")):
            crossing = http.post(
                f"/v1/networks/{network}/sites/{site}/survey-responses",
                json=native_response(f"cross-{network}-{site}"),
                headers=lyon,
            )
            assert crossing.status_code == 403, crossing.text
            assert crossing.json()["detail"], crossing.text
        no_key = http.post(
            "/v1/networks/net-1/sites/site-a/survey-responses", json=native_response("anon")
        )
        assert no_key.status_code == 401, no_key.text

        own = http.post(
            "/v1/networks/net-1/sites/site-a/survey-responses",
            json=native_response("legit-1"),
            headers=lyon,
        )
        assert own.status_code == 202, own.text
        accepted.append(own.json()["event_id"])

    issuer = stack.config.issuer
    refusals = {
        issuer.token(network_id="net-2"): 403,  # another network's quality lead
        issuer.token(network_id="net-1", exp=int(time.time()) - 60): 401,  # expired
        LocalIssuer().token(network_id="net-1"): 401,  # signed with another key
    }
    for service, path in (("reporter", "tracking-table.csv"), ("actions", "kpis")):
        for token, code in refusals.items():
            reply = httpx.get(
                f"{stack[service].url}/v1/networks/net-1/{path}",
                headers={"authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert reply.status_code == code, f"{service}: {reply.status_code} {reply.text}"
            assert reply.json()["detail"], reply.text

    return accepted


async def test_hostile_calls_leave_no_trace_and_logs_hold_no_secret(
    guarded_stack: Stack,
) -> None:
    stack = guarded_stack
    accepted = hostile_then_legitimate_calls(stack)

    assert sorted(await topic_events(stack)) == sorted(accepted)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.config.mongodb_uri)
    try:
        aggregates = client[stack.config.database("analyzer")]["aggregates"]

        async def analysed() -> list[str] | None:
            found: list[str] = await aggregates.distinct("scope.network_id")
            return found or None

        networks = await eventually("the analyzer stored the accepted responses", analysed, stack)
        network_month = await aggregates.find_one(
            {"scope.level": "network", "scope.network_id": "net-1", "granularity": "month"}
        )
    finally:
        await client.close()
    assert networks == ["net-1"]
    assert network_month is not None

    stack.stop()  # flush and close every log
    logs = "\n".join(s.logs() for s in stack.services.values())
    assert all(f'"service": "{name}"' in logs for name in stack.services), "logs not captured"
    leaked = [
        secret
        for secret in (
            *SECRETS.values(),
            *KEYS.values(),
            PSEUDONYM_SECRET,
            EMAIL,
            PHONE,
            PHONE.replace(" ", ""),
            NAME,
            "marie.dupont",
            "06 12 34 56 78",
        )
        if secret.lower() in logs.lower()
    ]
    assert not leaked, f"found in service logs: {leaked}"
