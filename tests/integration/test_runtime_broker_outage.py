"""A broker outage on a running service: logged once each way, bounded readiness, metrics.

Runs a service built by ``service_app`` (a consumer group, a publisher, the readiness checks)
on a PRIVATE broker started by ``deploy/local/services.sh`` on free ports, stops that broker
for a while and starts it again. The shared local services are never touched. Needs the
locally cached Kafka (``make setup`` or ``deploy/local/services.sh provision``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client import CollectorRegistry

from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.logging import configure_logging
from boucle_runtime.service import service_app
from boucle_runtime.settings import ServiceSettings
from tools.localstack import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "local" / "services.sh"
OUTAGE_SECONDS = 20.0


class PrivateKafka:
    def __init__(self) -> None:
        self.run_dir = Path(tempfile.mkdtemp(prefix="boucle-outage-"))
        self.port, self.controller = free_port(), free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run(self, command: str) -> None:
        env = os.environ | {
            "BOUCLE_RUN_DIR": str(self.run_dir),
            "BOUCLE_KAFKA_PORT": str(self.port),
            "BOUCLE_KAFKA_CONTROLLER_PORT": str(self.controller),
            "BOUCLE_KAFKA_HEAP": "384m",
        }
        done = subprocess.run(
            [str(SCRIPT), command, "kafka"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        if done.returncode != 0:
            pytest.fail(f"services.sh {command} kafka failed:\n{done.stderr[-3000:]}")


@pytest.fixture(scope="module")
def private_kafka() -> Iterator[PrivateKafka]:
    cache = Path(os.environ.get("BOUCLE_CACHE_DIR", ROOT / ".cache"))
    if not list(cache.glob("kafka-*/libs/.stamp")) or shutil.which("java") is None:
        pytest.skip("no locally cached Kafka to start a private broker with")
    kafka = PrivateKafka()
    try:
        kafka.run("start")
        yield kafka
    finally:
        kafka.run("stop")
        shutil.rmtree(kafka.run_dir, ignore_errors=True)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_a_broker_outage_is_logged_once_each_way_and_readiness_stays_prompt(
    private_kafka: PrivateKafka, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = ServiceSettings(
        kafka_bootstrap_servers=private_kafka.bootstrap,
        topic_prefix="outage.",
        http_port=free_port(),
        readiness_refresh_seconds=1.0,
        graceful_timeout_seconds=5,
    )
    configure_logging(service="outage-test", level="INFO", fmt="json")
    registry = CollectorRegistry()
    broker = make_broker(settings, service="outage", registry=registry)
    consumers = Consumers(broker, settings, group="boucle-outage", registry=registry)

    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def handle(event: SurveyResponseSubmittedV1) -> None:
        pass

    consumers.attach()
    EventPublisher(broker, settings, [SurveyResponseSubmittedV1])
    app = service_app(
        name="outage",
        version="0",
        description="outage",
        settings=settings,
        broker=broker,
        registry=registry,
        topics=[spec for spec in TOPICS if spec.name == FEEDBACK_TOPIC],
        extra_topics=[dead_letter_topic("boucle-outage")],
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.http_port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())

    def up() -> float | None:
        return registry.get_sample_value("boucle_backend_up", {"backend": "kafka"})

    async def wait_for(state: float, within: float) -> None:
        deadline = time.monotonic() + within
        while up() != state and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert up() == state

    probe_seconds: list[float] = []
    try:
        await wait_for(1.0, 60)
        capsys.readouterr()  # start-up lines aside
        await asyncio.to_thread(private_kafka.run, "stop")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as http:
            deadline = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < deadline:
                started = time.perf_counter()
                reply = await http.get("/health/ready")
                probe_seconds.append(time.perf_counter() - started)
                await asyncio.sleep(0.5)
            assert reply.status_code == 503
            assert reply.json()["checks"] == {"kafka": "down"}
        assert up() == 0.0
        await asyncio.to_thread(private_kafka.run, "start")
        await wait_for(1.0, 60)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)
        during = capsys.readouterr().out

    lines = _lines(during)
    edges = [line for line in lines if line["event"] in ("backend_down", "backend_up")]
    assert [(e["event"], e["backend"]) for e in edges] == [
        ("backend_down", "kafka"),
        ("backend_up", "kafka"),
    ]
    assert edges[1]["outage_seconds"] >= OUTAGE_SECONDS - 5
    library = [line for line in lines if line["level"] in ("warning", "error")]
    assert len(library) < 40, f"{len(library)} warning/error lines (840-2,200 before):\n{during}"
    assert max(probe_seconds) < 0.5, probe_seconds
    assert registry.get_sample_value("boucle_backend_outages_total", {"backend": "kafka"}) == 1
