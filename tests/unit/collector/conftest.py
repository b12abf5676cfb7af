"""Fixtures of the collector's unit tests; the support code is in collector_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    WEBHOOK_INTEGRATIONS,
    Collector,
    MakeCollector,
    build_collector,
)


@pytest.fixture
def make_collector(tmp_path: Path) -> Iterator[MakeCollector]:
    """``make_collector(integrations=[...] or None, **settings)``: None = no file (open API)."""
    made: list[Collector] = []

    def make(integrations: list[dict[str, Any]] | None = None, **settings: Any) -> Collector:
        made.append(build_collector(tmp_path, integrations, **settings))
        return made[-1]

    yield make
    for collector in made:
        collector.client.close()


@pytest.fixture
def webhooks(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS)
