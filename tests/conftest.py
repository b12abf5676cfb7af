"""Where the real Kafka broker and MongoDB wire-protocol server come from, for every test.

Order: ``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URI`` when set (``make test`` starts the local
Kafka and FerretDB and sets them); otherwise testcontainers when a Docker engine answers;
otherwise the test fails, saying how to get the services. Integration tests are never
skipped silently. Unit tests request none of these fixtures and need nothing running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

HOW_TO_START = (
    "No {what} for the integration tests. Either run the whole suite with `make test` "
    "(it starts local Kafka and FerretDB), or start them with `deploy/local/services.sh start` "
    'and `eval "$(deploy/local/services.sh env)"`, or set {variable} to a running server, '
    "or make a Docker engine available for testcontainers."
)
KAFKA_IMAGE = "apache/kafka:4.1.1"
MONGO_IMAGE = "mongo:7.0"


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real Kafka broker."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    if not _docker_answers():
        pytest.fail(HOW_TO_START.format(what="Kafka broker", variable="KAFKA_BOOTSTRAP_SERVERS"))
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
        yield container.get_bootstrap_server()


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    """URI of a real MongoDB wire-protocol server (FerretDB locally, MongoDB in containers)."""
    configured = os.environ.get("MONGODB_URI")
    if configured:
        yield configured
        return
    if not _docker_answers():
        pytest.fail(HOW_TO_START.format(what="MongoDB server", variable="MONGODB_URI"))
    from testcontainers.community.mongodb import MongoDbContainer

    with MongoDbContainer(MONGO_IMAGE) as container:
        yield container.get_connection_url()


@pytest.fixture
def isolation() -> str:
    """A token unique to one test: topic prefix, group and database names derive from it."""
    return f"t{uuid.uuid4().hex[:12]}"
