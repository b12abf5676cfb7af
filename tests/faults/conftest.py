"""Fault tests: a PRIVATE Kafka broker and FerretDB that the tests may stop and start.

The shared local services are never touched: ``deploy/local/services.sh`` starts our own in a
temporary run folder on free ports (the binaries are cached under ``.cache/``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stack import running
from tools.localstack import Stack, StackConfig, free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES_SCRIPT = ROOT / "deploy" / "local" / "services.sh"


@dataclass
class PrivateBackends:
    run_dir: Path
    kafka_port: int
    controller_port: int
    mongo_port: int

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongodb_uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    def _script(self, command: str, which: str) -> None:
        env = os.environ | {
            "BOUCLE_RUN_DIR": str(self.run_dir),
            "BOUCLE_KAFKA_PORT": str(self.kafka_port),
            "BOUCLE_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "BOUCLE_MONGO_PORT": str(self.mongo_port),
            "BOUCLE_KAFKA_HEAP": "384m",
        }
        done = subprocess.run(
            [str(SERVICES_SCRIPT), command, which],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        if done.returncode != 0:
            pytest.fail(f"services.sh {command} {which} failed:\n{done.stderr[-3000:]}")

    def start(self, which: str = "") -> None:
        self._script("start", which)

    def stop(self, which: str = "") -> None:
        self._script("stop", which)


@pytest.fixture(scope="session")
def private_backends() -> Iterator[PrivateBackends]:
    backends = PrivateBackends(
        run_dir=Path(tempfile.mkdtemp(prefix="boucle-faults-")),
        kafka_port=free_port(),
        controller_port=free_port(),
        mongo_port=free_port(),
    )
    try:
        backends.start()
        yield backends
    finally:
        backends.stop()
        shutil.rmtree(backends.run_dir, ignore_errors=True)


@pytest.fixture
def fault_stack(
    private_backends: PrivateBackends, isolation: str, tmp_path: Path
) -> Iterator[Stack]:
    """The four services as processes on the private broker and database, fast intervals."""
    private_backends.start()  # idempotent: a previous test may have left one stopped
    config = StackConfig(
        kafka_bootstrap=private_backends.kafka_bootstrap,
        mongodb_uri=private_backends.mongodb_uri,
        topic_prefix=f"{isolation}.",
        database_suffix=f"_{isolation}",
        topic_partitions=2,
        extra_env={
            "BOUCLE_ANALYZER_SNAPSHOT_INTERVAL_SECONDS": "0.3",
            "BOUCLE_COLLECTOR_PUBLISH_TIMEOUT_SECONDS": "2",
            **{
                f"BOUCLE_{s.upper()}_GRACEFUL_TIMEOUT_SECONDS": "5"
                for s in ("collector", "analyzer", "actions", "reporter")
            },
        },
    )
    with running(Stack(config=config, log_dir=tmp_path / "logs")) as stack:
        yield stack
