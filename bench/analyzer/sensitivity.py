"""Detection timing and sensitivity on small samples (issue 13), live and historical import.

    .venv/bin/python -m bench.analyzer.sensitivity --networks 8 --calm 8
    .venv/bin/python -m bench.analyzer.sensitivity --calibrate --calm 20
    .venv/bin/python -m bench.analyzer.sensitivity --quick           # smoke, a few seconds
    .venv/bin/python -m bench.analyzer.sensitivity --problems spacy  # + problems and themes
    .venv/bin/python -m bench.analyzer.sensitivity --sites 300 --networks 1 --calm 1
    .venv/bin/python -m bench.analyzer.sensitivity --problems plain --shared 0  # as before

Problem networks also hold ``--shared`` problems (2 by default): one cause at 3-5 sites in
the same weeks. Their site drops are scored apart (``shared:<size>``); the headline rating
figures are those of single sites and trainers.

Networks from ``bench.analyzer.sparse_network`` (40 sites, 8-15 responses per site and week,
two trainers per site). The detection domain runs week after week as the service does.
A degradation is true when it names the injected site (or one of its trainers; the trainer
for a trainer drop), the injected metric and dimension, and opens between the onset and two
weeks after the end; anything else, network-wide ones included, is a false alarm.
Delay: end of the week whose evaluation opens it, minus the onset (onsets fall mid-week).

``--calibrate`` runs calm networks with the CUSUMs never deciding, and gives, per metric
family, the smallest threshold h whose up-crossings stay under half the budget of
1 false alarm per 1,000 site-weeks each (conservative: the effect and event-count conditions
that also gate an opening are left out).

``--replay`` also runs the service's detection runner (in-memory stores, no broker) twice on
one network: live (each week's data arrives after the week, the runner runs daily) and as a
historical import (all the data, then the runner), and compares the degradation events.
``--grouping-before FILE`` (with ``--problems``) also groups the same degradations with
another ``domain/problems.py`` (e.g. ``git show HEAD:...``) and scores its problems.
``--before FILE`` scores another detection module (e.g. today's, from
``git show HEAD:services/analyzer/src/boucle_analyzer/domain/detection.py``) on the same
networks, with its own default configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.analyzer.network import median
from bench.analyzer.problem_quality import (
    ClassifiedPool,
    detect_weeks,
    group_problems,
    score_problems,
)
from bench.analyzer.replay import compare
from bench.analyzer.sparse_network import Injected, SparseNetwork, generate, matches
from boucle_analyzer.domain import detection
from boucle_analyzer.domain import problems as problems_module
from boucle_analyzer.domain.detection import WEEK, DetectionConfig
from boucle_contracts.signals.v1 import Metric

TARGETS = {
    "recall_0.5_28d": 0.9,
    "median_delay_days_0.8": 7.0,
    "median_delay_days_0.5": 14.0,
    "false_alarms_per_1000_site_weeks": 1.0,
}
FAMILIES = {
    Metric.MEAN_SATISFACTION: "ratings",
    Metric.COMPLAINT_RATE: "counts",
    Metric.DROPOUT_RATE: "counts",
}


def detect(
    network: SparseNetwork, config: Any, domain: ModuleType = detection
) -> tuple[list[Any], int]:
    """Every degradation the domain opens, week after week, and the site-weeks evaluated."""
    first = max(config.windows) + config.baseline_weeks
    open_degradations: dict[str, Any] = {}
    opened: list[Any] = []
    weeks = network.week_starts[first:]
    for week in weeks:
        findings = domain.evaluate(network.series, week, config)
        transitions = domain.advance(open_degradations, findings, week, config)
        opened += [degradation for degradation, _ in transitions.opened]
        open_degradations = transitions.still_open(open_degradations)
    return opened, len(weeks) * len(network.sites)


def score(networks: Sequence[tuple[SparseNetwork, list[Any], int]]) -> dict[str, Any]:
    """Recall, delays and false alarms over several networks."""
    delays: list[tuple[Injected, float | None]] = []
    false_alarms, site_weeks, opened_total = 0, 0, 0
    for network, opened, weeks in networks:
        true_ids: set[str] = set()
        for injected in network.injected:
            best: float | None = None
            for found in opened:
                opens_at = found.opened_week + WEEK
                in_time = injected.onset <= opens_at <= injected.end + timedelta(weeks=2)
                if in_time and matches(injected, found, network):
                    true_ids.add(found.degradation_id)
                    delay = (opens_at - injected.onset) / timedelta(days=1)
                    best = delay if best is None else min(best, delay)
            delays.append((injected, best))
        false_alarms += sum(d.degradation_id not in true_ids for d in opened)
        site_weeks += weeks
        opened_total += len(opened)
    # one site's drop or one trainer's: the headline figures, comparable with --shared 0
    ratings = [(i, d) for i, d in delays if i.kind in ("rating", "trainer") and not i.group]

    def recall(chosen: list[tuple[Injected, float | None]], days: float = math.inf) -> Any:
        if not chosen:
            return None
        return round(sum(d is not None and d <= days for _, d in chosen) / len(chosen), 3)

    def median_delay(size: Callable[[float], bool]) -> float:
        found = [d for i, d in ratings if size(i.size) and d is not None]
        return round(median(found), 1)

    by_kind: dict[str, list[tuple[Injected, float | None]]] = {}
    for injected, found_delay in delays:
        label = f"{'shared' if injected.group else injected.kind}:{injected.size:g}"
        by_kind.setdefault(label, []).append((injected, found_delay))
    return {
        "injected": len(delays),
        "opened": opened_total,
        "recall_0.5_28d": recall([(i, d) for i, d in ratings if i.size >= 0.5], 28),
        "recall_0.8_28d": recall([(i, d) for i, d in ratings if i.size >= 0.8], 28),
        "median_delay_days_0.8": median_delay(lambda s: s >= 0.8),
        "median_delay_days_0.5": median_delay(lambda s: s == 0.5),
        "false_alarms": false_alarms,
        "site_weeks": site_weeks,
        "false_alarms_per_1000_site_weeks": round(1000 * false_alarms / max(1, site_weeks), 2),
        "recall_by_kind_and_size_28d": {
            k: f"{sum(d is not None and d <= 28 for _, d in v)}/{len(v)}"
            for k, v in sorted(by_kind.items())
        },
        "complaint_wave_median_delay_days": round(
            median([d for i, d in delays if i.kind == "complaints" and d is not None]), 1
        ),
    }


def calibrate(seeds: Sequence[int], config: DetectionConfig) -> dict[str, Any]:
    """Per family, the smallest h keeping up-crossings under half the false-alarm budget."""
    never = replace(config, cusum_h=dict.fromkeys(config.cusum_h, math.inf))
    paths: dict[str, list[list[float]]] = {"ratings": [], "counts": []}
    site_weeks = 0
    for seed in seeds:
        network = generate(seed, calm=True)
        first = max(never.windows) + never.baseline_weeks
        by_key: dict[str, list[float]] = {}
        family: dict[str, str] = {}
        for week in network.week_starts[first:]:
            for finding in detection.evaluate(network.series, week, never):
                if finding.sequential is None or finding.metric not in FAMILIES:
                    continue
                by_key.setdefault(finding.key, []).append(finding.sequential.statistic)
                family[finding.key] = FAMILIES[finding.metric]
        for key, path in by_key.items():
            paths[family[key]].append(path)
        site_weeks += (network.weeks - first) * len(network.sites)
    budget = 0.5 * site_weeks / 1000
    chosen: dict[str, Any] = {"site_weeks": site_weeks, "alarms_allowed_per_family": budget}
    for name, family_paths in paths.items():
        for h in [x / 2 for x in range(4, 41)]:
            alarms = sum(_crossings(path, h) for path in family_paths)
            if alarms <= budget:
                chosen[name] = {"h": h, "alarms": alarms}
                break
    return chosen


def _crossings(path: Sequence[float], h: float) -> int:
    """Times the statistic reaches h from below (one alarm per excursion)."""
    count, above = 0, False
    for value in path:
        if value >= h and not above:
            count += 1
        above = value >= h
    return count


def _load(path: Path, name: str = "detection_before") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--networks", type=int, default=8, help="networks with problems")
    parser.add_argument("--calm", type=int, default=8, help="networks with no problem")
    parser.add_argument("--quick", action="store_true", help="one small network of each")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--replay", action="store_true", help="live vs historical import")
    parser.add_argument("--before", type=Path, help="another detection module to score")
    parser.add_argument("--no-after", action="store_true", help="score --before only")
    parser.add_argument(
        "--grouping-before", type=Path, help="with --problems: another problems module to score"
    )
    parser.add_argument("--sites", type=int, default=40, help="sites per network")
    parser.add_argument(
        "--shared", type=int, default=2, help="shared problems (3-5 sites each) per network"
    )
    parser.add_argument(
        "--problems",
        choices=("plain", "spacy"),
        help="add comments (classified by this analyser) and score the problems",
    )
    arguments = parser.parse_args()
    started = time.perf_counter()
    config = DetectionConfig()
    result: dict[str, Any] = {"seed": arguments.seed, "config_h": _h(config)}
    if arguments.calibrate:
        seeds = [1000 + arguments.seed + i for i in range(arguments.calm)]
        result["calibration"] = calibrate(seeds, config)
    else:
        result |= _measure(arguments, config)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["targets"] = TARGETS
    print(json.dumps(result, indent=2))


def _h(config: DetectionConfig) -> dict[str, float]:
    return {metric.value: h for metric, h in config.cusum_h.items()}


def _measure(arguments: argparse.Namespace, config: DetectionConfig) -> dict[str, Any]:
    pool = None
    if arguments.problems is not None:
        pool = ClassifiedPool(arguments.problems)
    sites, seed, shared = arguments.sites, arguments.seed, arguments.shared
    if arguments.quick:
        problem = [generate(seed, sites=12, weeks=36, comments=pool, shared=shared)]
        calm = [generate(seed + 500, sites=12, weeks=36, calm=True, comments=pool)]
    else:
        problem = [
            generate(seed + i, sites=sites, comments=pool, shared=shared)
            for i in range(arguments.networks)
        ]
        calm = [
            generate(seed + 500 + i, sites=sites, calm=True, comments=pool)
            for i in range(arguments.calm)
        ]
    measured: dict[str, Any] = {}
    modules: dict[str, tuple[ModuleType, Any]] = {}
    if arguments.before is not None:
        before = _load(arguments.before)
        modules["before"] = (before, before.DetectionConfig())
    if not arguments.no_after:
        modules["after"] = (detection, config)
    for label, (module, module_config) in modules.items():
        if label == "after" and pool is not None:
            grouping = arguments.grouping_before
            earlier = None if grouping is None else _load(grouping, "problems_before")
            measured[label] = _with_problems(problem, calm, config, earlier)
            continue
        problems = [(n, *detect(n, module_config, module)) for n in problem]
        calms = [(n, *detect(n, module_config, module)) for n in calm]
        measured[label] = score(problems + calms) | {
            "calm_networks": score(calms)["false_alarms_per_1000_site_weeks"]
        }
    if arguments.replay:
        measured["replay"] = asyncio.run(compare(problem[0], config))
    return measured


def _with_problems(
    problem: Sequence[SparseNetwork],
    calm: Sequence[SparseNetwork],
    config: DetectionConfig,
    grouping_before: ModuleType | None = None,
) -> dict[str, Any]:
    """The degradation scores and the problem scores of the same runs (and, with
    ``grouping_before``, that grouping's problem scores on the same degradations)."""
    detected = [(n, *detect_weeks(n, config)) for n in [*problem, *calm]]
    degradations = [(n, opened, sites) for n, opened, _, sites in detected]
    calms = degradations[len(problem) :]
    result = score(degradations) | {
        "calm_networks": score(calms)["false_alarms_per_1000_site_weeks"]
    }
    groupings = {"problems": problems_module}
    if grouping_before is not None:
        groupings = {"problems_grouping_before": grouping_before} | groupings
    for label, module in groupings.items():
        runs = [
            (n, opened, group_problems(n, weeks, module), sites)
            for n, opened, weeks, sites in detected
        ]
        result[label] = score_problems(runs)
    return result


if __name__ == "__main__":
    main()
