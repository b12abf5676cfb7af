"""Fault tests: a PRIVATE Kafka broker and FerretDB that the tests may stop and start.

The shared local services are never touched: ``deploy/local/services.sh`` starts our own in a
temporary run folder on free ports (the binaries are cached under ``.cache/``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
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
            # Named: the script's "all" also starts an OIDC provider and a mail server.
            [str(SERVICES_SCRIPT), command, *(which.split() or ["kafka", "mongo"])],
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

    def kill(self, which: str) -> None:
        """SIGKILL (``kafka`` or ``ferretdb``): no flush, no clean shutdown, as in a crash.

        The pid file is the script's; the pid counts only while its command line names our
        run folder (as the script checks: a recycled pid is someone else's process).
        """
        pid = int((self.run_dir / which / "pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline")
        if str(self.run_dir / which) not in cmdline.read_bytes().replace(b"\0", b" ").decode():
            pytest.fail(f"pid {pid} is not our {which}")
        os.kill(pid, signal.SIGKILL)
        # Gone once its ports refuse: a JVM's main thread is a zombie while its other threads
        # still hold the sockets, and restarting then finds the port taken.
        ports = (self.kafka_port, self.controller_port) if which == "kafka" else (self.mongo_port,)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_listening(port) for port in ports):
            time.sleep(0.1)
        if any(_listening(port) for port in ports):
            pytest.fail(f"{which} (pid {pid}) still listening 30 s after SIGKILL")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


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


def fault_config(
    backends: PrivateBackends, isolation: str, extra_env: dict[str, str] | None = None
) -> StackConfig:
    """The four services on the private broker and database, fast intervals."""
    return StackConfig(
        kafka_bootstrap=backends.kafka_bootstrap,
        mongodb_uri=backends.mongodb_uri,
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
            **(extra_env or {}),
        },
    )


@pytest.fixture
def fault_stack(
    private_backends: PrivateBackends, isolation: str, tmp_path: Path
) -> Iterator[Stack]:
    """The four services as processes on the private broker and database, fast intervals."""
    private_backends.start()  # idempotent: a previous test may have left one stopped
    config = fault_config(private_backends, isolation)
    with running(Stack(config=config, log_dir=tmp_path / "logs")) as stack:
        yield stack
