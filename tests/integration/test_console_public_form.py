"""The public form of a site through the real collector and broker: a complaint and a remark
left on the console's public page are published by the collector like any other input (the
address given with consent kept only as a pseudonym), a double click is published once, and
the console's page sets no cookie."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition

from boucle_collector.app import create_app as create_collector
from boucle_collector.domain.integrations import hash_key
from boucle_collector.settings import CollectorSettings
from boucle_console.app import create_app as create_console
from boucle_console.domain.public_form import FormTokens
from boucle_console.settings import ConsoleSettings
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS_TOPIC
from tools.localstack import LocalIssuer, free_port

pytestmark = pytest.mark.integration

API_KEY = "console-public-form-key"
SECRET = "integration-console-secret-0123456789"
NET, SITE = "net-pub", "site-a"
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@pytest.fixture
async def collector_url(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, tmp_path: Path
) -> AsyncIterator[str]:
    integrations = tmp_path / "integrations.json"
    integrations.write_text(
        json.dumps(
            {
                "integrations": [
                    {
                        "id": "console",
                        "platform": "api",
                        "network_id": NET,
                        "sites": [SITE],
                        "api_keys": [{"id": "k1", "sha256": hash_key(API_KEY)}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    settings = CollectorSettings(
        _env_file=None,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"{isolation}.",
        topic_partitions=1,
        integrations_file=integrations,
        pseudonymisation_secret="integration-pseudonym-secret-32b",
        publish_timeout_seconds=15.0,
        mongodb_uri=mongodb_uri,
        mongodb_database=f"collector_{isolation}",
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_collector(settings), port=port, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _records(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        documents: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            while await consumer.position(partition) < end:
                batches = await consumer.getmany(partition, timeout_ms=500)
                for records in batches.values():
                    documents += [json.loads(r.value or b"") for r in records]
        return documents
    finally:
        await consumer.stop()


async def test_a_complaint_and_a_remark_go_through_the_collector(
    collector_url: str, kafka_bootstrap: str, isolation: str
) -> None:
    issuer = LocalIssuer()
    settings = ConsoleSettings(
        _env_file=None,
        auth_issuer=issuer.issuer,
        auth_audience=issuer.audience,
        auth_public_key=issuer.public_pem,
        session_secret=SECRET,
        collector_url=collector_url,
        collector_api_key=API_KEY,
        public_form_min_seconds=0,  # the too-fast guard has its unit test; no waiting here
        log_format="console",
        log_level="WARNING",
    )
    console = create_console(settings)
    transport = httpx.ASGITransport(app=console)
    async with httpx.AsyncClient(transport=transport, base_url="https://console") as http:
        page = await http.get(f"/avis/{NET}/{SITE}")
        match = TOKEN.search(page.text)
        assert match is not None
        complaint = {
            "form_token": match.group(1),
            "kind": "complaint",
            "role": "funder",
            "subject": "Attestations en retard",
            "message": "Les attestations de mars ne nous sont pas parvenues.",
            "consent": "on",
            "email": "Gestion@Financeur.example",
            "website": "",
        }
        first = await http.post(f"/avis/{NET}/{SITE}", data=complaint)
        twice = await http.post(f"/avis/{NET}/{SITE}", data=complaint)  # a double click
        remark_token = TOKEN.search((await http.get(f"/avis/{NET}/{SITE}")).text)
        assert remark_token is not None
        remark = await http.post(
            f"/avis/{NET}/{SITE}",
            data={
                "form_token": remark_token.group(1),
                "kind": "remark",
                "role": "learner",
                "message": "Les pauses sont trop courtes l'après-midi.",
                "website": "",
            },
        )
        other = TOKEN.search((await http.get(f"/avis/{NET}/site-z")).text)
        assert other is not None
        unknown_site = await http.post(
            f"/avis/{NET}/site-z", data=complaint | {"form_token": other.group(1)}
        )
    assert "set-cookie" not in page.headers
    assert (first.status_code, twice.status_code, remark.status_code) == (303, 303, 303)
    assert unknown_site.status_code == 404  # the key may not write for that site
    # The collector answers once the broker confirmed: the records are there now.
    complaints = await _records(kafka_bootstrap, f"{isolation}.{INCIDENTS_TOPIC}")
    responses = await _records(kafka_bootstrap, f"{isolation}.{FEEDBACK_TOPIC}")
    assert len(complaints) == 1  # the double click was published once
    data = complaints[0]["data"]
    assert data["channel"] == "web_form"
    assert data["complainant_role"] == "funder"
    assert data["subject"] == "Attestations en retard"
    # the console's keyed pseudonym of the address, never the address
    assert data["complainant_ref"] == FormTokens(SECRET).contact_ref("gestion@financeur.example")
    assert "financeur.example" not in json.dumps(complaints[0]).lower()
    (response,) = responses
    assert response["data"]["anonymous"] is True
    assert response["data"]["survey_kind"] == "ad_hoc"
    assert response["data"]["respondent_role"] == "learner"
    assert response["data"]["comments"][0]["text"] == "Les pauses sont trop courtes l'après-midi."
