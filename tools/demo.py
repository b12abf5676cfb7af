"""The main job: the loop on a sample network, through the real services, ending on disk.

    python -m tools.demo [--sites 8] [--months 3] [--seed 7] [--out out] [--keep-running]

Needs Kafka and MongoDB (``make demo`` provides them). Starts the four services as their own
processes, posts the sample network through the collector's HTTP API, waits until the
reporter has it all, writes the audit pack to ``--out``, prints a summary and stops the
services (or leaves them running with ``--keep-running``). Event ids are deterministic, so
re-running is safe: nothing already accepted is counted again.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import json
import os
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress

from tools.localstack import DEFAULT_PORTS, Stack, StackConfig, StackError, free_port
from tools.sample_network import SampleNetwork, Submission, sample_network

console = Console()
ANALYSIS = "Analyse des appréciations"
RESPONSES = re.compile(r"^(\d+) réponse")
REPORTER_WAIT_SECONDS = 180.0


def _ports(keep_running: bool) -> dict[str, int]:
    """Well-known ports when free (required when left running), else any free port."""
    ports = {}
    for name, port in DEFAULT_PORTS.items():
        try:
            httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=0.5)
            taken = True
        except httpx.HTTPError:
            taken = False
        if taken and keep_running:
            raise SystemExit(f"port {port} ({name}) is taken: stop what runs there first")
        ports[name] = free_port() if taken else port
    return ports


async def _post_all(
    stack: Stack, network: SampleNetwork, submissions: list[Submission]
) -> Counter[str]:
    accepted: Counter[str] = Counter()
    queue: asyncio.Queue[Submission] = asyncio.Queue()
    for submission in submissions:
        queue.put_nowait(submission)
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("Envoi des retours au collecteur", total=len(submissions))
        async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=30) as http:

            async def worker() -> None:
                while not queue.empty():
                    item = queue.get_nowait()
                    url = f"/v1/networks/{network.network_id}/sites/{item.site_id}/{item.path}"
                    reply = await http.post(
                        url,
                        content=item.payload.model_dump_json(exclude_none=True),
                        headers={"content-type": "application/json"},
                    )
                    if reply.status_code != 202:
                        raise RuntimeError(f"{url} answered {reply.status_code}: {reply.text}")
                    accepted[item.path] += 1
                    progress.advance(task)

            await asyncio.gather(*(worker() for _ in range(8)))
    return accepted


def _analysed_responses(table: str) -> int:
    rows = csv.DictReader(io.StringIO(table.lstrip("\ufeff")), delimiter=";")
    return sum(
        int(m.group(1))
        for r in rows
        if r["Source"] == ANALYSIS and (m := RESPONSES.match(r["Constat"]))
    )


async def _wait_for_reporter(stack: Stack, network: SampleNetwork, expected: int) -> str:
    deadline = time.monotonic() + REPORTER_WAIT_SECONDS
    async with httpx.AsyncClient(base_url=stack["reporter"].url, timeout=30) as http:
        with console.status("Analyse en cours (analyzer → actions, reporter)…"):
            while True:
                table = (
                    await http.get(f"/v1/networks/{network.network_id}/tracking-table.csv")
                ).text
                if _analysed_responses(table) >= expected:
                    return table
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the reporter shows {_analysed_responses(table)}/{expected} responses"
                    )
                await asyncio.sleep(1)


def _write_pack(out: Path, network: SampleNetwork, table: str, accepted: Counter[str]) -> Path:
    folder = out / network.network_id
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tableau-de-suivi.csv": table.encode("utf-8")}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    manifest = {
        "network_id": network.network_id,
        "generated_at": datetime.now(UTC).isoformat(),
        "sample": {"sites": len(network.sites), "months": network.months, "seed": network.seed},
        "accepted": dict(sorted(accepted.items())),
        "files": {
            name: {"sha256": hashlib.sha256(c).hexdigest(), "bytes": len(c)}
            for name, c in files.items()
        },
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return folder


async def run(args: argparse.Namespace) -> int:
    network = sample_network(sites=args.sites, months=args.months, seed=args.seed)
    submissions = list(network.submissions())
    config = StackConfig(
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        mongodb_uri=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/"),
        ports=_ports(args.keep_running),
    )
    stack = Stack(config=config, log_dir=args.out / "logs")
    console.print(
        f"[bold]Boucle[/] — réseau {network.network_id}: "
        f"{len(network.sites)} sites, {network.months} mois"
    )
    try:
        with console.status("Démarrage des quatre services…"):
            stack.start()
        accepted = await _post_all(stack, network, submissions)
        table = await _wait_for_reporter(stack, network, accepted["survey-responses"])
        folder = _write_pack(args.out, network, table, accepted)
    except (StackError, RuntimeError, httpx.HTTPError) as error:
        console.print(f"[red]Échec:[/] {error}\nJournaux des services: {args.out / 'logs'}")
        stack.stop()
        return 1
    rows = list(csv.DictReader(io.StringIO(table.lstrip("\ufeff")), delimiter=";"))
    console.print(f"Acceptés: {dict(sorted(accepted.items()))}")
    console.print(f"Tableau de suivi: {len(rows)} lignes ({Counter(r['Source'] for r in rows)})")
    console.print(f"Dossier de preuves: [bold]{folder}[/]")
    if args.keep_running:
        console.print(
            f"Services en marche: {', '.join(f'{s.name} {s.url}' for s in stack.services.values())}"
        )
        return 0
    with console.status("Arrêt des services…"):
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boucle-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--keep-running", action="store_true", help="leave the services running")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
