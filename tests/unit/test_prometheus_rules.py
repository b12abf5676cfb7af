"""Alert rules and Prometheus configuration, checked and unit-tested with the real promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package (`make setup` does)")
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, check=False, cwd=PROMETHEUS, timeout=120
    )


def test_alert_rules_are_valid() -> None:
    rules = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "rules").glob("*.yml"))
    assert rules, "no alert rules found"
    result = _promtool("check", "rules", *rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_their_unit_tests() -> None:
    tests = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "tests").glob("*.yml"))
    assert tests, "no promtool rule tests found"
    result = _promtool("test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_group_has_a_unit_test() -> None:
    rules = {p.stem for p in (PROMETHEUS / "rules").glob("*.yml")}
    tested = {p.name.removesuffix(".test.yml") for p in (PROMETHEUS / "tests").glob("*.test.yml")}
    assert rules <= tested, f"rule files without a promtool test: {sorted(rules - tested)}"


def test_prometheus_configuration_is_valid() -> None:
    result = _promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
