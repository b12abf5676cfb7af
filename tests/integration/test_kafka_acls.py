"""Kafka secured as production runs it: SCRAM over TLS, one principal per service, ACLs.

A throwaway broker from ``deploy/local/kafka_secure.py`` (its own ports and folder under
``.cache/run/kafka-secure/``; the shared broker on 9092 is never touched) with the ACLs of
``boucle_runtime.kafka_acls``. Services connect through the runtime's own ``make_broker``
with the new settings, exactly as they do in production. Needs Java and the locally cached
Kafka jars (``make setup`` or ``deploy/local/services.sh provision``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import decode_event
from boucle_runtime.kafka import EventPublisher, make_broker
from boucle_runtime.kafka_security import client_options
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "local" / "kafka_secure.py"
CACHE = Path(os.environ.get("BOUCLE_CACHE_DIR", ROOT / ".cache"))


@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[dict[str, Any]]:
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: no secured local Kafka broker can run")
    if not list(CACHE.glob("kafka-*/libs/.stamp")):
        pytest.skip("no locally cached Kafka jars (deploy/local/services.sh provision)")
    run_dir = Path(os.environ.get("BOUCLE_RUN_DIR", CACHE / "run")) / "kafka-secure"
    run_dir = run_dir / f"test-{uuid.uuid4().hex[:8]}"

    def script(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args, "--run-dir", str(run_dir)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    try:
        started = script("start")
        if started.returncode != 0:
            pytest.fail(f"kafka_secure.py start failed:\n{started.stderr[-3000:]}")
        yield json.loads(started.stdout)
    finally:
        script("stop", "--wipe")


def settings_as(kafka: dict[str, Any], user: str, **overrides: Any) -> ServiceSettings:
    """What ``BOUCLE_<SVC>_KAFKA_*`` variables would give a service running as ``user``."""
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka["bootstrap"],
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": kafka["mechanism"],
        "kafka_sasl_username": user,
        "kafka_sasl_password": kafka["users"].get(user, "not-a-password"),
        "kafka_ssl_cafile": kafka["cafile"],
        "create_topics": False,
    }
    return ServiceSettings.model_validate(values | overrides)


@pytest.fixture
async def collector(secure_kafka: dict[str, Any]) -> AsyncIterator[tuple[KafkaBroker, Any]]:
    settings = settings_as(secure_kafka, "boucle-collector")
    broker = make_broker(settings, service="collector", registry=CollectorRegistry())
    # The collector publishes only input events; the metrics publisher is the forbidden door.
    publisher = EventPublisher(broker, settings, [SurveyResponseSubmittedV1, ScopeMetricsUpdatedV1])
    await broker.start()
    try:
        yield broker, publisher
    finally:
        await broker.stop()


async def partitions_of(settings: ServiceSettings, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["error_code"] == 0, described
    return [TopicPartition(topic, int(p["partition"])) for p in described["partitions"]]


async def read_all(settings: ServiceSettings, topic: str) -> list[bytes]:
    """Every value on the topic, read as the principal of ``settings`` (no group)."""
    consumer = AIOKafkaConsumer(
        **client_options(settings), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = await partitions_of(settings, topic)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        for _ in range(30):
            positions = [await consumer.position(tp) for tp in partitions]
            if all(
                position >= ends[tp] for position, tp in zip(positions, partitions, strict=True)
            ):
                break
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                values += [record.value for record in records]
        return values
    finally:
        await consumer.stop()


async def test_collector_writes_its_input_topic_but_is_refused_the_analyzers_metrics(
    secure_kafka: dict[str, Any], collector: tuple[KafkaBroker, Any]
) -> None:
    _, publisher = collector
    response = example_of(SurveyResponseSubmittedV1)
    await publisher.publish(response)  # acks=all: on the topic once this returns

    with pytest.raises(TopicAuthorizationFailedError):
        await publisher.publish(example_of(ScopeMetricsUpdatedV1))

    # The reporter (Read on every topic) finds the collector's event, over TLS too.
    values = await read_all(settings_as(secure_kafka, "boucle-reporter"), FEEDBACK_TOPIC)
    assert response.id in {decode_event(value).id for value in values}


async def test_the_analyzer_writes_metrics_it_alone_may_write(secure_kafka: dict[str, Any]) -> None:
    settings = settings_as(secure_kafka, "boucle-analyzer")
    broker = make_broker(settings, service="analyzer", registry=CollectorRegistry())
    publisher = EventPublisher(broker, settings, [ScopeMetricsUpdatedV1, SurveyResponseSubmittedV1])
    await broker.start()
    try:
        await publisher.publish(example_of(ScopeMetricsUpdatedV1))
        with pytest.raises(TopicAuthorizationFailedError):  # inputs are the collector's alone
            await publisher.publish(example_of(SurveyResponseSubmittedV1))
    finally:
        await broker.stop()


async def test_a_wrong_password_is_refused(secure_kafka: dict[str, Any]) -> None:
    right = settings_as(secure_kafka, "boucle-collector")
    admin = AIOKafkaAdminClient(**client_options(right), request_timeout_ms=10_000)
    await admin.start()  # the same client with the right password gets in
    await admin.close()

    wrong = settings_as(secure_kafka, "boucle-collector", kafka_sasl_password="wrong-password")
    admin = AIOKafkaAdminClient(**client_options(wrong), request_timeout_ms=10_000)
    with pytest.raises(KafkaError):
        await admin.start()
    await admin.close()
    server_log = Path(secure_kafka["run_dir"]) / "logs" / "server.log"
    assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in server_log.read_text()
