"""deploy/local/services.sh keeps the logs of previous runs (a crash's log survives a restart)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "local" / "services.sh"


def _rotate(run_dir: Path, which: str, keep: int = 3) -> None:
    env = os.environ | {"BOUCLE_RUN_DIR": str(run_dir), "BOUCLE_KEEP_LOGS": str(keep)}
    subprocess.run([str(SCRIPT), "rotate", which], env=env, check=True, timeout=30)


def _write(path: Path, text: str, day: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stamp = 1_767_225_600 + day * 86_400  # 2026-01-01 + day, UTC
    os.utime(path, (stamp, stamp))


def test_each_start_moves_the_logs_aside_and_keeps_the_newest(tmp_path: Path) -> None:
    server = tmp_path / "kafka" / "logs" / "server.log"
    stdout = tmp_path / "kafka" / "stdout.log"
    for day in range(5):
        _write(server, f"run {day}: broker crashed", day)
        _write(stdout, f"run {day}", day)
        _rotate(tmp_path, "kafka", keep=3)
    (tmp_path / "kafka" / "logs" / "server.log.1").write_text("log4j's own rollover")
    _write(server, "run 5", 5)
    _rotate(tmp_path, "kafka", keep=3)

    kept = sorted(p.name for p in server.parent.iterdir())
    assert kept == [
        "server.log.1",
        "server.log.20260104T000000Z",
        "server.log.20260105T000000Z",
        "server.log.20260106T000000Z",
    ]
    assert (server.parent / "server.log.20260105T000000Z").read_text() == ("run 4: broker crashed")
    assert not server.exists()
    assert len(list(stdout.parent.glob("stdout.log.*"))) == 3


def test_start_rotates_instead_of_deleting() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    start_kafka = re.search(r"^start_kafka\(\) \{\n(.*?)^\}", script, re.M | re.S)
    start_mongo = re.search(r"^start_mongo\(\) \{\n(.*?)^\}", script, re.M | re.S)
    assert start_kafka is not None
    assert start_mongo is not None

    assert "rotate_logs kafka" in start_kafka.group(1)
    assert "rotate_logs ferretdb" in start_mongo.group(1)
    assert not re.search(r"rm -f [^\n]*server\.log", script), "the broker's log is never deleted"
