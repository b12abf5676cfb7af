"""Benchmark: the full dossier de preuves of a 1,000-site network over 12 months.

    python -m bench.reporter.build [--sites 1000] [--months 12] [--keep]

Needs MongoDB or FerretDB (``MONGODB_URI``, default ``mongodb://127.0.0.1:27017/``). Seeds
the reporter's read model (what the projection of the events leaves: monthly figures per
site, counts, complaints, cases, actions, degradations) into a fresh database, then times
``build_pack`` from it: read model → XLSX, CSV, register, charts, HTML, PDF, index, zip.

Twice: with 40 and with 400 survey responses per site and month. The read model holds
counts, not responses, so the build's time and peak memory do not depend on how many raw
responses there were (peak measured with ``tracemalloc`` around the build only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from boucle_reporter.adapters.memory import InMemoryEvidenceLog, InMemoryReadModel
from boucle_reporter.adapters.mongo import MongoReadModel
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.projection.write import Write
from boucle_reporter.pack import build_pack

NETWORK = "reseau-bench"
YEAR = 2025
ROLES = (("learner", 0.8), ("funder", 0.02), ("trainer", 0.05), ("company", 0.05))
REASONS = ("personal", "professional", "found_employment", "dissatisfaction", "organisation")
DIMENSIONS = ("overall", "content", "trainer", "platform", "organisation")
CATEGORIES = ("platform", "organisation", "trainer", "administration")


def _at(month: int, day: int) -> datetime:
    return datetime(YEAR, month, day, 10, tzinfo=UTC)


def site_writes(site: str, months: int, responses: int, rng: random.Random) -> Iterator[Write]:
    """What a year of one site's events leaves in the read model."""
    tenant = {"network_id": NETWORK, "site_id": site}
    yield Write("sites", f"{NETWORK}|{site}", fields=tenant)
    funder_month = rng.randrange(1, months + 1) if rng.random() > 0.03 else None
    for month in range(1, months + 1):
        key = f"{YEAR}-{month:02d}"
        dims = []
        for dimension in DIMENSIONS:
            mean = rng.uniform(3.2, 4.6)
            dims.append(
                {
                    "dimension": dimension,
                    "count": responses,
                    "total": mean * responses,
                    "total_squares": mean * mean * responses * 1.05,
                    "satisfied": int(responses * (mean - 1) / 4),
                }
            )
        yield Write(
            "analyses",
            f"{NETWORK}/level:site/site:{site}|month|{key}-01",
            fields={**tenant, "month": key, "responses": responses, "dimensions": dims},
            newer_than=("revision", 1),
        )
        by_role = {
            f"responses.{role}": max(0, round(responses * share * rng.uniform(0.6, 1.2)))
            for role, share in ROLES
        }
        by_role["responses.funder"] = 1 if month == funder_month else 0
        yield Write(
            "counts",
            f"{NETWORK}|{site}|{key}|feedback",
            fields={**tenant, "month": key, "family": "feedback"},
            increments={k: v for k, v in by_role.items() if v},
            newer_than=("seq", 1),
        )
        yield Write(
            "counts",
            f"{NETWORK}|{site}|{key}|training",
            fields={**tenant, "month": key, "family": "training"},
            increments={
                "enrolments": responses + 5,
                f"dropouts.{rng.choice(REASONS)}": rng.randrange(0, 3),
                "learners_completed": responses,
            },
            members={
                "funders": (f"opco-{rng.randrange(11)}", "cpf"),
                "companies": tuple(f"ent-{site}-{i}" for i in range(3)),
                "trainers": tuple(f"t-{site}-{i}" for i in range(4)),
            },
            newer_than=("seq", 1),
        )
    for n in range(4):
        month = rng.randrange(1, months + 1)
        ref = f"rec-{site}-{n}"
        answered = rng.random() > 0.1
        yield Write(
            "complaints",
            f"{NETWORK}|{ref}",
            fields={
                **tenant,
                "complaint_id": ref,
                "received_at": _at(month, 3),
                "channel": "email",
                "role": "learner",
                "subject": "Plateforme instable pendant les modules",
                "category": rng.choice(CATEGORIES),
            },
        )
        yield Write(
            "cases",
            f"{NETWORK}|case-{ref}",
            fields={
                **tenant,
                "case_id": f"case-{ref}",
                "source": "complaint",
                "source_ref": ref,
                "opened_at": _at(month, 3),
                "summary": "Plateforme instable pendant les modules",
                "acknowledge_due_at": _at(month, 5),
                "answer_due_at": _at(month, 17),
                "at": {"acknowledged": _at(month, 4)}
                | ({"answered": _at(month, 12)} if answered else {}),
                "action_ids": [f"act-{site}-{n}"] if n < 2 else [],
            },
            on_insert={"status": "answered" if answered else "acknowledged", "revision": 2},
        )
    for n in range(2):
        month = rng.randrange(1, months + 1)
        done = rng.random() > 0.4
        yield Write(
            "actions",
            f"{NETWORK}|act-{site}-{n}",
            fields={
                **tenant,
                "action_id": f"act-{site}-{n}",
                "title": "Changer d'hébergeur de la plateforme",
                "problem": "Coupures répétées de la plateforme pendant les modules",
                "origin": "complaint_case",
                "source_kinds": ["complaint"],
                "source_refs": [f"rec-{site}-{n}"],
                "created_at": _at(month, 20),
                "kpi": "mean_satisfaction (platform): 3.1 → 4",
                "at": {"in_progress": _at(month, 25)}
                | ({"done": _at(month, 25) + timedelta(days=40)} if done else {}),
                "outcome": rng.choice(("effective", "not_effective", "inconclusive"))
                if done
                else None,
            },
            on_insert={
                "status": "done" if done else "in_progress",
                "owner": f"resp-{site}",
                "due_date": date(YEAR, min(12, month + 2), 28).isoformat(),
                "revision": 2,
            },
        )
    if rng.random() < 0.3:
        yield Write(
            "degradations",
            f"{NETWORK}|deg-{site}",
            fields={
                **tenant,
                "degradation_id": f"deg-{site}",
                "metric": "mean_satisfaction",
                "dimension": "platform",
                "severity": rng.choice(("low", "medium", "high")),
                "detected_at": _at(rng.randrange(1, months + 1), 15),
                "baseline": 4.1,
                "current": 3.2,
                "themes": ["platform"],
            },
        )
    if rng.random() < 0.5:
        yield Write(
            "incidents",
            f"{NETWORK}|ale-{site}",
            fields={
                **tenant,
                "incident_id": f"ale-{site}",
                "kind": "hazard",
                "occurred_at": _at(rng.randrange(1, months + 1), 8),
                "summary": "Formateur absent, session reportée",
            },
        )


async def seed(
    client: AsyncMongoClient[dict[str, Any]], database: str, sites: int, months: int, responses: int
) -> int:
    """The read model's final documents, computed with the projection's own semantics.

    Applying the writes one by one against the server is what the service does as events
    arrive (see the README for its rate); here only the build is measured, so the final
    documents are inserted in bulk.
    """
    rng = random.Random(7)
    memory = InMemoryReadModel()
    await memory.apply(
        [w for s in range(sites) for w in site_writes(f"site-{s:04d}", months, responses, rng)]
    )
    inserted = 0
    for name, documents in memory.collections.items():
        batch = list(documents.values())
        for start in range(0, len(batch), 2_000):
            await client[database][name].insert_many(batch[start : start + 2_000])
        inserted += len(batch)
    return inserted


async def run_once(
    client: AsyncMongoClient[dict[str, Any]], sites: int, months: int, responses: int, keep: bool
) -> dict[str, float]:
    database = f"bench_reporter_{uuid.uuid4().hex[:8]}"
    read_model = MongoReadModel(client, database)
    await read_model.create_indexes()
    try:
        started = time.perf_counter()
        documents = await seed(client, database, sites, months, responses)
        seeded = time.perf_counter() - started
        request = BuildRequest(
            network_id=NETWORK,
            start=date(YEAR, 1, 1),
            end=date(YEAR + months // 12, 1, 1) if months == 12 else date(YEAR, months + 1, 1),
        )
        steps: dict[str, float] = {}
        marks: list[tuple[str, float]] = [("start", time.perf_counter())]

        async def progress(_: float, step: str) -> None:
            previous, since = marks[-1]
            steps[previous] = time.perf_counter() - since
            marks.append((step, time.perf_counter()))

        started = time.perf_counter()
        pack = await build_pack(
            read_model=read_model,
            evidence=InMemoryEvidenceLog(),
            request=request,
            progress=progress,
        )
        archive = pack.archive()
        elapsed = time.perf_counter() - started
        # memory: a second build under tracemalloc (which slows allocation down)
        tracemalloc.start()
        await build_pack(read_model=read_model, evidence=InMemoryEvidenceLog(), request=request)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        if not keep:
            await client.drop_database(database)
    raw = responses * sites * months
    print(
        f"{sites} sites × {months} months, {raw:>9,} raw responses: seeded {documents} documents "
        f"in {seeded:.1f} s; built in {elapsed:.1f} s, peak {peak / 2**20:.0f} MiB, "
        f"zip {len(archive) / 2**20:.1f} MiB, {len(pack.files)} files\n  steps: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items() if k != "start"),
        flush=True,
    )
    return {"seconds": elapsed, "peak_mib": peak / 2**20}


async def main_async(args: argparse.Namespace) -> int:
    uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        results = [
            await run_once(client, args.sites, args.months, responses, args.keep)
            for responses in (40, 400)
        ]
    finally:
        await client.close()
    slowest = max(r["seconds"] for r in results)
    growth = results[1]["peak_mib"] / results[0]["peak_mib"]
    print(
        f"slowest build {slowest:.1f} s (target < 60 s); "
        f"peak memory ×{growth:.2f} for ×10 responses"
    )
    return 0 if slowest < 60 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reporter.build", description=__doc__)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
