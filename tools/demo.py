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
from datetime import UTC, datetime, timedelta
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
SEND_ATTEMPTS = 20


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
                    reply = await _post(http, url, item.payload.model_dump_json(exclude_none=True))
                    if reply.status_code not in {200, 202}:  # 200: a duplicate, already accepted
                        raise RuntimeError(f"{url} answered {reply.status_code}: {reply.text}")
                    accepted[item.path] += 1
                    progress.advance(task)

            await asyncio.gather(*(worker() for _ in range(8)))
    return accepted


async def _post(http: httpx.AsyncClient, url: str, body: str) -> httpx.Response:
    """POST as a well-behaved sender: on 429 or 503, wait as ``Retry-After`` says and retry."""
    for _ in range(SEND_ATTEMPTS):
        reply = await http.post(url, content=body, headers={"content-type": "application/json"})
        if reply.status_code not in {429, 503}:
            return reply
        await asyncio.sleep(float(reply.headers.get("retry-after", "1")))
    return reply


def _analysed_responses(table: str) -> int:
    rows = csv.DictReader(io.StringIO(table.lstrip("\ufeff")), delimiter=";")
    return sum(
        int(m.group(1))
        for r in rows
        if r["Source"] == ANALYSIS and (m := RESPONSES.match(r["Constat"]))
    )


def _reporter(stack: Stack, network: SampleNetwork, *, timeout: float) -> httpx.AsyncClient:
    """A client of the reporter's API, as the network's quality lead."""
    token = stack.config.issuer.token(network_id=network.network_id)
    return httpx.AsyncClient(
        base_url=stack["reporter"].url,
        timeout=timeout,
        headers={"authorization": f"Bearer {token}"},
    )


async def _wait_for_reporter(stack: Stack, network: SampleNetwork, expected: int) -> str:
    deadline = time.monotonic() + REPORTER_WAIT_SECONDS
    async with _reporter(stack, network, timeout=30) as http:
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


async def _fetch_dossier(stack: Stack, network: SampleNetwork) -> bytes:
    """The reporter's dossier de preuves for the whole sample period (built in background)."""
    first = network.start.date().replace(day=1)
    end = (network.start + timedelta(days=30 * network.months)).date() + timedelta(days=1)
    deadline = time.monotonic() + REPORTER_WAIT_SECONDS
    async with _reporter(stack, network, timeout=60) as http:
        with console.status("Dossier de preuves (reporter)…"):
            build = (
                (
                    await http.post(
                        f"/v1/networks/{network.network_id}/builds",
                        json={"from": first.isoformat(), "to": end.isoformat()},
                    )
                )
                .raise_for_status()
                .json()
            )
            url = f"/v1/networks/{network.network_id}/builds/{build['build_id']}"
            while build["status"] not in {"done", "failed"}:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the dossier de preuves is still {build['status']}")
                await asyncio.sleep(1)
                build = (await http.get(url)).raise_for_status().json()
            if build["status"] == "failed":
                raise RuntimeError(f"the dossier de preuves failed: {build['error']}")
            return (await http.get(build["download"])).raise_for_status().content


def _write_pack(
    out: Path, network: SampleNetwork, table: str, dossier: bytes, accepted: Counter[str]
) -> Path:
    folder = out / network.network_id
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tableau-de-suivi.csv": table.encode("utf-8"), "dossier-de-preuves.zip": dossier}
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
    # One namespace (topics, groups, databases) per sample: re-running the same sample is
    # idempotent, and samples of other sizes or seeds never mix into its figures.
    namespace = f"demo-s{args.seed}-{args.sites}x{args.months}"
    config = StackConfig(
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        mongodb_uri=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/"),
        topic_prefix=f"{namespace}.",
        database_suffix=f"_{namespace.replace('-', '_')}",
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
        dossier = await _fetch_dossier(stack, network)
        folder = _write_pack(args.out, network, table, dossier, accepted)
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
