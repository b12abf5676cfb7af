"""One survey response through all four services, each link checked on its own.

collector (HTTP 202) → Kafka → analyzer (aggregate in MongoDB) → metrics snapshot →
actions (KPI it will judge effectiveness with) and reporter (evidence + tracking table).
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import decode_event
from tools.localstack import Stack

pytestmark = pytest.mark.e2e
T = TypeVar("T")
LINK_TIMEOUT_SECONDS = 45.0


async def _eventually(what: str, probe: Callable[[], Awaitable[T | None]], stack: Stack) -> T:
    deadline = time.monotonic() + LINK_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.3)
    pytest.fail(f"broken link: {what} within {LINK_TIMEOUT_SECONDS}s\n{stack.diagnostics()}")


async def test_one_survey_response_reaches_the_tracking_table(
    stack: Stack, kafka_bootstrap: str
) -> None:
    event = example_of(SurveyResponseSubmittedV1)
    response = event.data
    network, site = event.network_id, event.site_id
    assert site is not None

    # 1. The collector accepts it only once Kafka has it.
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        accepted = await http.post(
            f"/v1/networks/{network}/sites/{site}/survey-responses",
            content=response.model_dump_json(exclude_none=True),
            headers={"content-type": "application/json"},
        )
    assert accepted.status_code == 202, accepted.text
    event_id = accepted.json()["event_id"]

    # 2. It is on the feedback topic, keyed by its site.
    consumer = AIOKafkaConsumer(
        f"{stack.config.topic_prefix}{FEEDBACK_TOPIC}",
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=LINK_TIMEOUT_SECONDS)
    finally:
        await consumer.stop()
    on_topic = decode_event(record.value or b"")
    assert on_topic.id == event_id
    assert record.key == f"{network}/{site}".encode()

    # 3. The analyzer updated the site's monthly aggregate in MongoDB.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.config.mongodb_uri, tz_aware=True
    )
    try:
        aggregates = client[stack.config.database("analyzer")]["aggregates"]

        async def site_month() -> dict[str, Any] | None:
            return await aggregates.find_one(
                {"scope.level": "site", "scope.site_id": site, "granularity": "month"}
            )

        aggregate = await _eventually("analyzer aggregate in MongoDB", site_month, stack)
    finally:
        await client.close()
    assert aggregate["responses"] == 1
    assert aggregate["dims"]["overall"]["count"] == 1

    # 4. The actions service received the analyzer's figures for that site.
    token = stack.config.issuer.token(network_id=network)  # a quality lead of the network
    async with httpx.AsyncClient(
        base_url=stack["actions"].url,
        timeout=10,
        headers={"authorization": f"Bearer {token}"},
    ) as http:

        async def kpis() -> list[dict[str, Any]] | None:
            found = (await http.get(f"/v1/networks/{network}/kpis")).json()
            return [k for k in found if k["scope"].get("site_id") == site] or None

        site_kpis = await _eventually("actions service KPI snapshot", kpis, stack)
    assert all(k["responses"] == 1 for k in site_kpis)

    # 5. The reporter's tracking table shows the site's analysed month.
    async with httpx.AsyncClient(
        base_url=stack["reporter"].url, timeout=10, headers={"authorization": f"Bearer {token}"}
    ) as http:

        async def tracking_rows() -> list[dict[str, str]] | None:
            reply = await http.get(f"/v1/networks/{network}/tracking-table.csv")
            assert reply.status_code == 200, reply.text
            rows = list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff")), delimiter=";"))
            return [r for r in rows if r["Site"] == site] or None

        rows = await _eventually("reporter tracking table row", tracking_rows, stack)
    assert rows[0]["Source"] == "Analyse des appréciations"
    assert rows[0]["Constat"].startswith("1 réponse(s)")


def test_every_service_exposes_metrics_that_pass_promtool(stack: Stack) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package (`make setup` does)")
    for name, service in stack.services.items():
        exposition = httpx.get(f"{service.url}/metrics", timeout=10).text
        assert "boucle_http_requests_total" in exposition or name != "collector"
        assert "boucle_consumer_lag_messages" in exposition or name == "collector"
        lint = subprocess.run(
            [promtool, "check", "metrics"],
            input=exposition,
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0, f"{name}: {lint.stdout}{lint.stderr}"


def test_services_stop_cleanly_on_sigterm(stack: Stack) -> None:
    """Each drains and closes its clients, then exits by SIGTERM (uvicorn re-raises it)."""
    codes = {name: service.stop() for name, service in stack.services.items()}
    assert codes == dict.fromkeys(codes, -signal.SIGTERM), stack.diagnostics()
    for service in stack.services.values():
        assert '"event": "service_stopped"' in service.logs(), f"{service.name} did not drain"
