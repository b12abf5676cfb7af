"""Every benchmark of issues 8, 13 and 18 in one command: a table on stdout, JSON in
``.cache/bench/``.

    python -m bench            # the full run (several minutes; the figures of docs/benchmarks.md)
    python -m bench --quick    # tiny sizes, one repetition: the CI smoke run
    python -m bench --only collector_bulk analyzer

Needs Kafka and a MongoDB wire-protocol server (``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URI``;
defaults: the local ones of ``deploy/local/services.sh``). Every run uses fresh topic
prefixes and databases and deletes them afterwards. ``privacy_names`` and
``analyzer_themes`` need neither.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.analyzer.themes import bench_themes
from bench.analyzer.throughput import bench_analyzer
from bench.collector.intake import bench_bulk, bench_single
from bench.common import Comparison, write_results
from bench.e2e.latency import bench_latency
from bench.persistence.upserts import bench_persistence
from bench.privacy.names import bench_names
from bench.reporter.scaling import bench_reporter


@dataclass(frozen=True)
class Sizes:
    reps: int
    bulk_requests: int
    single_events: int
    analyzer_events: int
    persistence_events: int
    e2e_rate: float
    e2e_networks: int
    reporter_sites: tuple[int, ...]
    reporter_months: int
    concurrency: int = 4
    names_reps: int = 5  # timed passes over the labelled texts of bench/privacy
    themes_reps: int = 5  # timed passes over the labelled comments of bench/analyzer


FULL = Sizes(
    reps=3,
    bulk_requests=20,
    single_events=1000,
    analyzer_events=200,
    persistence_events=100,
    e2e_rate=8.0,
    e2e_networks=12,
    reporter_sites=(100, 1000, 5000),
    reporter_months=12,
)
QUICK = Sizes(
    reps=1,
    bulk_requests=2,
    single_events=20,
    analyzer_events=10,
    persistence_events=5,
    e2e_rate=40.0,
    e2e_networks=1,
    reporter_sites=(2, 4),
    reporter_months=1,
    names_reps=1,
    themes_reps=1,
)


def benchmarks(sizes: Sizes) -> dict[str, Callable[[], Awaitable[dict[str, Any]]]]:
    def compared(
        make: Callable[[], Awaitable[Comparison]],
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def run() -> dict[str, Any]:
            return (await make()).summary()

        return run

    return {
        "collector_bulk": compared(
            lambda: bench_bulk(
                requests=sizes.bulk_requests, reps=sizes.reps, concurrency=sizes.concurrency
            )
        ),
        "collector_single": compared(
            lambda: bench_single(
                events=sizes.single_events, reps=sizes.reps, concurrency=sizes.concurrency * 4
            )
        ),
        "analyzer": compared(lambda: bench_analyzer(events=sizes.analyzer_events, reps=sizes.reps)),
        "persistence": compared(
            lambda: bench_persistence(events=sizes.persistence_events, reps=sizes.reps)
        ),
        "e2e_latency": lambda: bench_latency(
            rate=sizes.e2e_rate, networks=sizes.e2e_networks, lanes=2, detection_interval=1.0
        ),
        "reporter_scaling": lambda: bench_reporter(
            sites=list(sizes.reporter_sites), months=sizes.reporter_months
        ),
        "privacy_names": lambda: bench_names(reps=sizes.names_reps),
        "analyzer_themes": lambda: bench_themes(reps=sizes.themes_reps),
    }


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def row(name: str, result: dict[str, Any]) -> str:
    met = "met" if result.get("met") else "MISSED"
    if "ratio" in result:
        per_cpu = result.get("cpu_ratio")
        return (
            f"{name:<18} {result['system_rate']:>10.1f} {result['baseline_rate']:>10.1f} "
            f"{result['unit']:<10} {result['ratio']:>7.1%} >= {result['target']:.0%}  {met:<6} "
            f"per CPU-s ratio {'n/a' if per_cpu is None else f'{per_cpu:.1%}'}"
        )
    if name == "privacy_names":
        combined, cost = result["quality_by_split"]["heldout"]["combined"], result["cost"]
        return (
            f"{name:<18} held-out, rule+respondent+spaCy: span P {combined['span']['precision']}"
            f" R {combined['span']['recall']}, token P {combined['token']['precision']} "
            f"R {combined['token']['recall']}; {cost['combined_redaction']['p50_ms']} ms/text "
            f"p50 ({cost['combined_redaction']['p50_vs_baseline']}x the regex redaction)"
        )
    if name == "analyzer_themes":
        held, cost = result["quality"]["heldout_all"], result["cost"]
        return (
            f"{name:<18} all held-out micro F1 {held['baseline']['micro']['f1']} -> "
            f"{held['spacy']['micro']['f1']}, negative accuracy "
            f"{held['baseline']['negative_accuracy']} -> {held['spacy']['negative_accuracy']} "
            f"(targets 0.9, 0.95); {cost['spacy']['p50_ms']} ms/comment p50, "
            f"{cost['spacy']['batched_ms']} batched"
        )
    if name == "e2e_latency":
        return (
            f"{name:<18} p50 {result['p50']} s  p95 {result['p95']} s  p99 {result['p99']} s "
            f"at {result['achieved_rate']} events/s ({result['detected']}/{result['networks']} "
            f"detected; target p95 < 2 s at 1000/s)  {met}"
        )
    sizes = ", ".join(
        f"{k} sites {v['seconds']} s {v['peak_mib']} MiB" for k, v in result["by_sites"].items()
    )
    multiplier = result["responses_multiplier"]
    return (
        f"{name:<18} {sizes}; x{multiplier['responses_factor']} responses: time "
        f"x{multiplier['seconds_factor']}, peak x{multiplier['peak_factor']}  {met}"
    )


async def main_async(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    chosen = benchmarks(sizes)
    names = args.only or list(chosen)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "sizes": sizes.__dict__,
        "results": {},
    }
    for name in names:
        print(f"--- {name}", flush=True)
        results["results"][name] = await chosen[name]()
        print(row(name, results["results"][name]), flush=True)
    path = write_results(results, quick=args.quick)
    print("\n" + "\n".join(row(n, r) for n, r in results["results"].items()))
    print(f"\nresults: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke)")
    parser.add_argument("--only", nargs="+", choices=list(benchmarks(QUICK)))
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
