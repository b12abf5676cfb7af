"""The Grafana dashboards (deploy/grafana/dashboards/) against the metrics the services expose.

Every dashboard is valid JSON with unique panel ids, a unique uid and title, queries only the
provisioned Prometheus datasource (uid ``prometheus``), and every ``boucle_*`` or
``faststream_*`` name in its queries is a metric some service really registers: each app is
built with default settings and its ``/metrics`` read without starting it (no Kafka, no
MongoDB), plus the consumer-lag gauges, which only exist once a service has started. The
expressions must also parse (``promtool``, as for the alert rules).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from boucle_actions.app import create_app as create_actions
from boucle_actions.settings import ActionsSettings
from boucle_analyzer.app import create_app as create_analyzer
from boucle_analyzer.settings import AnalyzerSettings
from boucle_collector.app import create_app as create_collector
from boucle_collector.settings import CollectorSettings
from boucle_console.app import create_app as create_console
from boucle_console.settings import ConsoleSettings
from boucle_reporter.app import create_app as create_reporter
from boucle_reporter.settings import ReporterSettings
from boucle_runtime.lag import LagMonitor
from boucle_surveys.app import create_app as create_surveys
from boucle_surveys.settings import SurveysSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
METRIC_NAME = re.compile(r"(?<![A-Za-z0-9_:])(?:boucle|faststream)_[a-z_]+")
# Samples each metric type exposes, by suffix of its family name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "untyped": ("",),
}
# Values that make Grafana's macros and this project's variables valid PromQL.
MACROS = {
    "$__rate_interval": "1m",
    "$__interval": "1h",
    "$__range": "6h",
    "$job": "boucle-.+",
    "$network": ".*",
}

Dashboard = dict[str, Any]
Factory = Callable[[], FastAPI]

APPS: dict[str, Factory] = {
    "collector": lambda: create_collector(CollectorSettings()),
    "analyzer": lambda: create_analyzer(AnalyzerSettings()),
    "actions": lambda: create_actions(ActionsSettings()),
    "reporter": lambda: create_reporter(ReporterSettings()),
    "console": lambda: create_console(ConsoleSettings()),
    "surveys": lambda: create_surveys(SurveysSettings()),
}


def _dashboards() -> dict[str, Dashboard]:
    files = sorted(DASHBOARDS.glob("*.json"))
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in files}


def _panels(dashboard: Dashboard) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels of collapsed rows


def _expressions(dashboard: Dashboard) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable."""
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['id']} {panel['title']!r}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            yield f"variable {variable['name']}", text


def _datasources(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from _datasources(value)
    elif isinstance(node, list):
        for item in node:
            yield from _datasources(item)


def _families(exposition: str) -> dict[str, str]:
    """Metric family name -> type, from the exposition's TYPE lines (HELP/TYPE appear even
    for a labelled metric without any child yet)."""
    families = {}
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            if kind == "counter":
                name = name.removesuffix("_total")
            families[name] = kind
    return families


@cache
def _registered_series() -> frozenset[str]:
    """Every series name the services can expose: family names with their type's suffixes."""
    families: dict[str, str] = {}
    app = None
    for factory in APPS.values():
        app = factory()
        # Not `with TestClient(app)`: the lifespan would connect to Kafka and MongoDB.
        response = TestClient(app).get("/metrics")
        assert response.status_code == 200
        families |= _families(response.text)
    # Registered when a service starts (its lifespan): the consumer-lag gauges.
    assert app is not None
    lag = CollectorRegistry()
    LagMonitor(app.state.broker, lag)  # the last app is a Kafka consumer
    families |= _families(generate_latest(lag).decode())
    return frozenset(
        f"{name}{suffix}" for name, kind in families.items() for suffix in SUFFIXES[kind]
    )


def test_there_are_the_three_dashboards() -> None:
    assert set(_dashboards()) == {
        "boucle-service-health.json",
        "boucle-pipeline.json",
        "boucle-business.json",
    }


def test_uids_and_titles_are_unique() -> None:
    dashboards = list(_dashboards().values())
    uids = [d["uid"] for d in dashboards]
    titles = [d["title"] for d in dashboards]
    assert len(set(uids)) == len(uids), uids
    assert len(set(titles)) == len(titles), titles
    for name, dashboard in _dashboards().items():
        assert dashboard["uid"] == name.removesuffix(".json"), "uid = file name"
        assert dashboard.get("id") is None, f"{name}: provisioned dashboards carry no id"


@pytest.mark.parametrize("name", sorted(_dashboards()))
def test_panel_ids_are_unique_and_the_grid_does_not_overlap(name: str) -> None:
    dashboard = _dashboards()[name]
    ids = [panel["id"] for panel in _panels(dashboard)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{name}: duplicate panel ids {duplicates}"
    cells: dict[tuple[int, int], int] = {}
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0, f"{name}: panel {panel['id']} x"
        assert pos["x"] + pos["w"] <= 24, f"{name}: panel {panel['id']} is wider than the grid"
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                other = cells.setdefault((x, y), panel["id"])
                assert other == panel["id"], f"{name}: panels {other} and {panel['id']} overlap"


@pytest.mark.parametrize("name", sorted(_dashboards()))
def test_only_the_provisioned_prometheus_datasource_is_used(name: str) -> None:
    dashboard = _dashboards()[name]
    assert dashboard["schemaVersion"] >= 39
    others = [ds for ds in _datasources(dashboard) if ds != DATASOURCE]
    assert not others, f"{name}: datasources other than {DATASOURCE}: {others}"
    for panel in _panels(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == DATASOURCE, f"{name}: panel {panel['id']}"
            assert panel["targets"], f"{name}: panel {panel['id']} has no query"
    variables = [v for v in dashboard["templating"]["list"] if v["type"] == "query"]
    assert variables, f"{name}: no templating variable (service, network)"


@pytest.mark.parametrize("name", sorted(_dashboards()))
def test_every_metric_queried_is_registered_by_a_service(name: str) -> None:
    registered = _registered_series()
    unknown = sorted(
        {
            f"{metric} ({where})"
            for where, expr in _expressions(_dashboards()[name])
            for metric in METRIC_NAME.findall(expr)
            if metric not in registered
        }
    )
    assert not unknown, (
        f"{name} queries metrics no service registers: {unknown}. "
        f"Known: {sorted(m for m in registered if not m.endswith('_created'))}"
    )


def test_every_expression_parses(tmp_path: Path) -> None:
    """promtool checks each expression as a recording rule, Grafana's macros substituted."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package (`make setup` does)")
    rules = []
    for name, dashboard in _dashboards().items():
        for index, (where, query) in enumerate(_expressions(dashboard)):
            if query.startswith("label_values("):
                continue  # Grafana's variable function, not PromQL
            expr = query
            for macro, value in MACROS.items():
                expr = expr.replace(macro, value)
            record = f"dashboard:{name.removesuffix('.json').replace('-', '_')}:{index}"
            rules.append({"record": record, "expr": expr, "labels": {"where": where}})
    path = tmp_path / "dashboards.rules.json"  # JSON is YAML: promtool reads it as is
    path.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
