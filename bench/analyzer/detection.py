"""Detection quality on synthetic networks: precision, recall, delay, false alarms.

    .venv/bin/python -m bench.analyzer.detection --seed 1

Runs the analyzer's pure detection domain (no Kafka, no database) week after week over a
generated network (``bench.analyzer.network``), exactly as the service's detection loop
does, and matches the degradations it opens with the drops and rises that were injected.

A degradation is a true detection when it is on the injected site and metric (a rating drop
on dimension d: mean of d, or the satisfaction share when d is overall; a complaint or
dropout rise: that rate) and opens between the onset and two weeks after the end. Anything
else is a false alarm. Delay: end of the week evaluated (when the degradation opens) minus
the onset.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from datetime import timedelta

# The network module calls what it injects a degradation; here that word is the domain's.
from bench.analyzer.network import Degradation as Injected
from bench.analyzer.network import Network, generate, median
from boucle_analyzer.domain.detection import (
    WEEK,
    Degradation,
    DetectionConfig,
    advance,
    evaluate,
)
from boucle_contracts.scope import ScopeLevel
from boucle_contracts.signals.v1 import Metric

TARGETS = {"recall_0.4_30": 0.9, "false_alarms_per_1000_scope_weeks": 1.0, "median_delay_days": 7}


def _matches(injected: Injected, found: Degradation) -> bool:
    if found.scope.level is not ScopeLevel.SITE or found.scope.site_id != injected.site:
        return False
    if injected.kind == "complaints":
        return found.metric is Metric.COMPLAINT_RATE
    if injected.kind == "dropouts":
        return found.metric is Metric.DROPOUT_RATE
    if found.metric is Metric.MEAN_SATISFACTION:
        return found.dimension == injected.dimension
    return found.metric is Metric.SATISFACTION_RATE and injected.dimension == "overall"


def run(network: Network, config: DetectionConfig) -> dict[str, object]:
    weeks = network.week_starts
    first = max(config.windows) + config.baseline_weeks  # enough history for a baseline
    open_degradations: dict[str, Degradation] = {}
    opened: list[Degradation] = []
    evaluated_scope_weeks = 0
    for week in weeks[first:]:
        findings = evaluate(network.series, week, config)
        evaluated_scope_weeks += len(network.series)
        transitions = advance(open_degradations, findings, week, config)
        opened += [degradation for degradation, _ in transitions.opened]
        open_degradations = transitions.still_open(open_degradations)
    return _score(network, opened, evaluated_scope_weeks)


def _score(network: Network, opened: list[Degradation], scope_weeks: int) -> dict[str, object]:
    true_ids: set[str] = set()
    detected: dict[int, float] = {}  # injected index -> delay in days
    for index, injected in enumerate(network.degradations):
        for found in opened:
            if not _matches(injected, found):
                continue
            opens_at = found.opened_week + WEEK
            if injected.onset <= opens_at <= injected.end + timedelta(weeks=2):
                true_ids.add(found.degradation_id)
                delay = (opens_at - injected.onset) / timedelta(days=1)
                detected[index] = min(delay, detected.get(index, delay))
    false_alarms = [d for d in opened if d.degradation_id not in true_ids]
    by_size: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for index, degradation in enumerate(network.degradations):
        label = degradation.label or f"{degradation.kind}:{degradation.size:g}"
        by_size[label][1] += 1
        by_size[label][0] += index in detected
    target_pool = [
        i
        for i, d in enumerate(network.degradations)
        if d.kind == "rating" and d.size >= 0.4 and network.sites[d.site] >= 30
    ]
    delays = list(detected.values())
    return {
        "degradations": len(network.degradations),
        "detected": len(detected),
        "opened": len(opened),
        "precision": round(len(true_ids) / len(opened), 3) if opened else None,
        "recall": round(len(detected) / len(network.degradations), 3),
        "recall_0.4_30": round(sum(i in detected for i in target_pool) / len(target_pool), 3)
        if target_pool
        else None,
        "median_delay_days": round(median(delays), 1),
        "median_delay_days_rating_0.4_30": round(
            median([detected[i] for i in target_pool if i in detected]), 1
        ),
        "false_alarms": len(false_alarms),
        "scope_weeks": scope_weeks,
        "false_alarms_per_1000_scope_weeks": round(1000 * len(false_alarms) / scope_weeks, 2),
        "recall_by_kind_and_size": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_size.items())},
        "formation_dynamix_delay_days": [
            round(detected[i], 1)
            for i, d in enumerate(network.degradations)
            if d.label == "formation_dynamix" and i in detected
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sites", type=int, default=80)
    parser.add_argument("--weeks", type=int, default=52)
    arguments = parser.parse_args()
    started = time.perf_counter()
    network = generate(arguments.seed, sites=arguments.sites, weeks=arguments.weeks)
    result = run(network, DetectionConfig())
    result["seed"] = arguments.seed
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["targets"] = TARGETS
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
