"""The benchmark suite still runs against the real services and gives well-formed results.

Tiny sizes (``python -m bench --quick``); what is checked is the shape and the exactness of
the counts, never a timing: speed depends on the machine, correctness does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPARISONS = ("collector_bulk", "collector_single", "analyzer", "persistence")

# Every benchmark at tiny sizes, two of them loading spaCy's French pipeline and one starting
# the whole stack: several minutes on 2 cores.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def results(kafka_bootstrap: str, mongodb_uri: str) -> dict[str, Any]:
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONGODB_URI": mongodb_uri,
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    path = Path(run.stdout.strip().rsplit("results: ", 1)[1].strip())
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_every_benchmark_reported(results: dict[str, Any]) -> None:
    assert set(results["results"]) == {
        *COMPARISONS,
        "e2e_latency",
        "reporter_scaling",
        "privacy_names",
        "analyzer_themes",
    }
    assert results["quick"] is True
    assert results["machine"]["cpus"] >= 1


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_are_positive_ratios_of_exact_counts(
    results: dict[str, Any], name: str
) -> None:
    result = results["results"][name]
    assert result["system_rate"] > 0
    assert result["baseline_rate"] > 0
    assert result["ratio"] > 0
    assert isinstance(result["met"], bool)
    runs = result["runs"]
    assert len(runs["system"]) == len(runs["baseline"]) == results["sizes"]["reps"]
    counts = {r["events"] for r in runs["system"] + runs["baseline"]}
    assert len(counts) == 1, f"system and baseline handled different counts: {counts}"
    sizes = results["sizes"]
    expected = {
        "collector_bulk": sizes["bulk_requests"] * 100,
        "collector_single": sizes["single_events"],
        "analyzer": sizes["analyzer_events"],
        "persistence": None,  # upserts: events x deltas per event, checked below
    }[name]
    if expected is not None:
        assert counts == {expected}
    for run in runs["system"]:
        if name.startswith("collector"):
            assert run["detail"]["on_topic"] == expected
        if name == "analyzer":
            assert run["detail"]["aggregated"] == expected
        if name == "persistence":
            assert run["detail"]["events"] == sizes["persistence_events"]
            assert run["events"] % run["detail"]["events"] == 0


def test_end_to_end_latency_measured_for_every_network(results: dict[str, Any]) -> None:
    result = results["results"]["e2e_latency"]
    assert result["detected"] == result["networks"] == results["sizes"]["e2e_networks"]
    assert 0 < result["p50"] <= result["p95"] <= result["p99"]
    assert result["achieved_rate"] > 0


def test_name_detection_scored_and_timed_against_the_regex(results: dict[str, Any]) -> None:
    result = results["results"]["privacy_names"]
    assert result["texts"] >= 150
    for quality in (result["quality"], *result["quality_by_split"].values()):
        assert set(quality) == {"rules", "respondent", "spacy", "combined"}
        for scores in quality.values():
            assert 0 <= scores["token"]["precision"] <= 1
            assert 0 <= scores["token"]["recall"] <= 1
    assert result["cost"]["baseline_regex_redact"]["p50_ms"] > 0
    assert result["cost"]["combined_redaction"]["p50_vs_baseline"] > 0


def test_themes_scored_for_each_classifier_and_split(results: dict[str, Any]) -> None:
    result = results["results"]["analyzer_themes"]
    assert result["comments"] >= 150
    assert result["by_split"]["heldout"] >= 60
    for by_classifier in result["quality"].values():
        assert set(by_classifier) == {"baseline", "plain", "spacy"}
        for scores in by_classifier.values():
            assert len(scores["per_theme"]) == 7
            assert 0 <= scores["micro"]["f1"] <= 1
            assert 0 <= scores["negative_accuracy"] <= 1
    assert result["cost"]["spacy"]["p50_ms"] > 0


def test_reporter_measured_at_each_size_and_multiplier(results: dict[str, Any]) -> None:
    result = results["results"]["reporter_scaling"]
    sites = [str(n) for n in results["sizes"]["reporter_sites"]]
    assert list(result["by_sites"]) == sites
    assert all(v["seconds"] > 0 and v["peak_mib"] > 0 for v in result["by_sites"].values())
    assert result["responses_multiplier"]["peak_factor"] > 0
