"""The four services as separate processes on the real broker and database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import running
from tools.localstack import Stack, StackConfig


@pytest.fixture
def stack(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, tmp_path: Path
) -> Iterator[Stack]:
    """Starts the four services, isolated by topic prefix and databases; SIGTERM afterwards."""
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        topic_prefix=f"{isolation}.",
        database_suffix=f"_{isolation}",
        topic_partitions=2,
        extra_env={
            "BOUCLE_ANALYZER_SNAPSHOT_INTERVAL_SECONDS": "0.5",
            **{
                f"BOUCLE_{s.upper()}_GRACEFUL_TIMEOUT_SECONDS": "10"
                for s in ("collector", "analyzer", "actions", "reporter")
            },
        },
    )
    with running(Stack(config=config, log_dir=tmp_path / "logs")) as stack:
        yield stack
