"""Reporter pack build: time and peak memory as the network grows, and as responses grow.

    python -m bench.reporter.scaling [--sites 100 1000 5000] [--months 12]

Reuses ``bench.reporter.build`` (seeded read model in a fresh database, ``build_pack`` timed,
peak memory under ``tracemalloc``): once per network size with 40 responses per site and
month, then at the middle size with 10 times the responses. The read model keeps counts, not
responses, so the second figure should stay where the first is (a multiplier near 1) while
time and memory follow the number of sites (aggregates).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from pymongo import AsyncMongoClient

from bench.common import mongodb_uri
from bench.reporter.build import run_once

RESPONSES = 40
MULTIPLIER = 10


async def bench_reporter(*, sites: list[int], months: int) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri(), tz_aware=True)
    try:
        by_size = {n: await run_once(client, n, months, RESPONSES, False) for n in sites}
        middle = sites[len(sites) // 2]
        more = await run_once(client, middle, months, RESPONSES * MULTIPLIER, False)
    finally:
        await client.close()
    base = by_size[middle]
    smallest, largest = by_size[sites[0]], by_size[sites[-1]]
    return {
        "name": "reporter_scaling",
        "months": months,
        "responses_per_site_month": RESPONSES,
        "by_sites": {
            str(n): {"seconds": round(r["seconds"], 2), "peak_mib": round(r["peak_mib"], 1)}
            for n, r in by_size.items()
        },
        "responses_multiplier": {
            "sites": middle,
            "responses_factor": MULTIPLIER,
            "seconds_factor": round(more["seconds"] / base["seconds"], 3),
            "peak_factor": round(more["peak_mib"] / base["peak_mib"], 3),
        },
        "sites_factor": round(sites[-1] / sites[0], 1),
        "seconds_factor_over_sites": round(largest["seconds"] / smallest["seconds"], 2),
        "peak_factor_over_sites": round(largest["peak_mib"] / smallest["peak_mib"], 2),
        # grows with aggregates, not responses: x10 responses moves neither by more than 1.5x
        "met": more["peak_mib"] / base["peak_mib"] < 1.5
        and more["seconds"] / base["seconds"] < 1.5,
    }


async def main_async(args: argparse.Namespace) -> int:
    result = await bench_reporter(sites=args.sites, months=args.months)
    print(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reporter.scaling", description=__doc__)
    parser.add_argument("--sites", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--months", type=int, default=12)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
