"""The main job: the loop on a sample network, through the real services, ending on disk.

    python -m tools.demo [--sites 4] [--months 3] [--seed 7] [--out out] [--keep-running]

Needs Kafka and MongoDB (``make demo`` provides them). Writes the collector's integrations
file, starts the four services as their own processes, sends the network's names (the
referential) and the sample network, which ends yesterday, through signed webhooks, bulk
NDJSON and the keyed native API (``tools.demo_ingest``), waits until the analyzer has it
all, lets it detect degradations and group them into problems, then has the network's
people act in data time (``tools.demo_loop``, ``tools.demo_people``): cases acknowledged,
analysed and answered, plans validated in the monthly meetings, measures run, evaluated and
re-opened where they did not work. It writes the audit pack to ``--out``, prints a summary
and stops the services (or leaves them running with ``--keep-running``). Event ids are
deterministic, so re-running is safe: nothing already accepted is counted again."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

from tools.demo_ingest import Credentials, Sender, write_integrations
from tools.demo_loop import (
    PeopleOutcome,
    act_as_people,
    client,
    problems_opened,
    readiness,
    set_deadlines,
    wait_for_degradations,
    wait_for_drafts,
    wait_until_consumed,
)
from tools.demo_summary import print_summary, say
from tools.localstack import DEFAULT_PORTS, SERVICES, Stack, StackConfig, StackError, free_port
from tools.sample_network import EVALUATION_DAYS, SampleNetwork, sample_network

console = Console()
REPORTER_WAIT_SECONDS = 180.0
# collector path → the analyzer's figure counting it
FIGURES = {
    "survey-responses": "responses",
    "enrolments": "enrolments",
    "complaints": "complaints",
    "hazards": "hazards",
    "dropouts": "dropouts",
}


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


async def analysed_totals(stack: Stack, network: SampleNetwork) -> Counter[str]:
    """The analyzer's network-wide weekly figures, summed: responses, enrolments, …"""
    async with client(stack, "analyzer", network) as http:  # as the quality lead
        figures = (
            (
                await http.get(
                    f"/v1/networks/{network.network_id}/figures",
                    params={"granularity": "week", "level": "network", "limit": "5000"},
                )
            )
            .raise_for_status()
            .json()
        )
    items = figures["items"] if isinstance(figures, dict) else figures
    totals: Counter[str] = Counter()
    for item in items:
        for name in FIGURES.values():
            totals[name] += int(item.get(name, 0))
    return totals


async def _wait_for_analysis(stack: Stack, network: SampleNetwork, sent: Counter[str]) -> None:
    """Until the analyzer counts every fact sent; fails only when progress stops."""
    expected = Counter({FIGURES[path]: count for path, count in sent.items() if path in FIGURES})
    deadline, seen = time.monotonic() + REPORTER_WAIT_SECONDS, -1
    with Progress(console=console) as progress:
        task = progress.add_task("Analyse (analyzer)", total=expected.total())
        while True:
            try:
                totals = await analysed_totals(stack, network)
            except httpx.HTTPError:  # a busy database: ask again, until the deadline
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(2)
                continue
            analysed = sum(min(totals[k], n) for k, n in expected.items())
            progress.update(task, completed=analysed)
            if analysed >= expected.total():
                return
            if analysed > seen:
                deadline, seen = time.monotonic() + REPORTER_WAIT_SECONDS, analysed
            if time.monotonic() > deadline:
                raise RuntimeError(f"the analyzer shows {dict(totals)}, sent {dict(expected)}")
            await asyncio.sleep(2)


async def _tracking_table(stack: Stack, network: SampleNetwork) -> str:
    async with client(stack, "reporter", network) as http:
        url = f"/v1/networks/{network.network_id}/tracking-table.csv"
        return (await http.get(url)).raise_for_status().text


async def _fetch_dossier(stack: Stack, network: SampleNetwork) -> bytes:
    """The reporter's dossier de preuves for the whole sample period (built in background)."""
    first = network.start.date().replace(day=1)
    end = network.end.date() + timedelta(days=1)
    deadline = time.monotonic() + REPORTER_WAIT_SECONDS
    async with client(stack, "reporter", network) as http:
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
    folder: Path, network: SampleNetwork, table: str, dossier: bytes, accepted: Counter[str]
) -> Path:
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


def stack_config(
    network: SampleNetwork, credentials: Credentials, folder: Path, **fields: Any
) -> StackConfig:
    """The services configured for the demo: keyed collector, short evaluation windows."""
    integrations = write_integrations(folder, network, credentials)
    fields.setdefault(
        "kafka_bootstrap", os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    fields.setdefault("mongodb_uri", os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/"))
    return StackConfig(
        collector_env=credentials.collector_env(integrations),
        extra_env={
            # Detection waits until every fact is in (the analyzer is restarted then).
            "BOUCLE_ANALYZER_DETECTION_INTERVAL_SECONDS": "86400",
            "BOUCLE_ANALYZER_DETECTION_MAX_WEEKS_PER_RUN": "60",
            "BOUCLE_ANALYZER_SNAPSHOT_INTERVAL_SECONDS": "5",  # fewer re-publications
            "BOUCLE_ACTIONS_EVALUATION_WINDOW_DAYS": str(EVALUATION_DAYS),
            # The people record their acts after the fact, dated when they happened: a live
            # sweep would judge last month's cases by today's clock before they are recorded
            # (all overdue), and evaluate measures before the people do.
            "BOUCLE_ACTIONS_SWEEP_INTERVAL_SECONDS": "3600",
            "BOUCLE_ACTIONS_EVALUATION_GRANULARITY": "day",
            "BOUCLE_ACTIONS_EVALUATION_MIN_SAMPLE_SIZE": "10",
            **{f"BOUCLE_{s.upper()}_GRACEFUL_TIMEOUT_SECONDS": "10" for s in SERVICES},
        },
        **fields,
    )


@dataclass
class Outcome:
    sender: Sender
    table: str
    dossier: bytes
    degradations: list[dict[str, Any]]
    people: PeopleOutcome
    readiness: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    names: Counter[str]

    @property
    def actions(self) -> Counter[str]:
        """``title → status`` counts of the actions drafted from problems."""
        return self.people.actions


async def run_loop(stack: Stack, network: SampleNetwork, credentials: Credentials) -> Outcome:
    """Everything after start-up: send, analyse, detect, act, evaluate, build the dossier."""
    sender = Sender(network, credentials, stack["collector"].url)
    await set_deadlines(stack, network)  # before the cases open: they take them then
    names = await sender.send_referential()
    with Progress(console=console, transient=False) as progress:
        await sender.send_all(list(network.submissions()), progress)
    await _wait_for_analysis(stack, network, sender.accepted)
    with console.status("Détection des dégradations (analyzer)…"):
        stack.restart("analyzer", {"BOUCLE_ANALYZER_DETECTION_INTERVAL_SECONDS": "1"})
        degradations = await wait_for_degradations(stack, network)
        # published with the degradations they group, before detection moves on
        problems = await problems_opened(stack, network)
    with console.status("Les équipes traitent réclamations, aléas et plans d'action…"):
        await wait_for_drafts(stack, network, len(problems))  # one draft per problem
        await wait_until_consumed(stack, "actions")  # every case opened, every figure read
        people = await act_as_people(stack, network)
    with console.status("Lecture de tous les événements (reporter)…"):
        await wait_until_consumed(stack, "reporter")
    dossier = await _fetch_dossier(stack, network)
    table = await _tracking_table(stack, network)
    return Outcome(
        sender,
        table,
        dossier,
        degradations,
        people,
        await readiness(stack, network),
        problems,
        names,
    )


async def run(args: argparse.Namespace) -> int:
    network = sample_network(sites=args.sites, months=args.months, seed=args.seed)
    credentials = Credentials.new()
    # One namespace (topics, groups, databases) per sample and week: re-running the same
    # sample is idempotent, and other samples never mix into its figures.
    namespace = f"demo-s{args.seed}-{args.sites}x{args.months}-{network.start:%Y%m%d}"
    folder = args.out / network.network_id
    config = stack_config(
        network,
        credentials,
        folder,
        topic_prefix=f"{namespace}.",
        database_suffix=f"_{namespace.replace('-', '_')}",
        ports=_ports(args.keep_running),
    )
    stack = Stack(config=config, log_dir=args.out / "logs")
    say(
        f"Boucle — réseau {network.network_id} : {len(network.sites)} sites, "
        f"{network.weeks} semaines de données (du {network.start:%d/%m/%Y} au "
        f"{network.end - timedelta(days=1):%d/%m/%Y})"
    )
    keep = False
    try:
        with console.status("Démarrage des quatre services…"):
            stack.start()
        outcome = await run_loop(stack, network, credentials)
        _write_pack(folder, network, outcome.table, outcome.dossier, outcome.sender.accepted)
        print_summary(outcome, network, folder)
        keep = args.keep_running
    except (StackError, RuntimeError, httpx.HTTPError) as error:
        say(f"Échec : {error}")
        say(f"Journaux des services : {args.out / 'logs'}")
        return 1
    finally:  # also on Ctrl-C and SIGTERM: never leave orphaned services behind
        if not keep:
            with console.status("Arrêt des services…"):
                stack.stop()
    if not keep:
        return 0
    token = config.issuer.token(network_id=network.network_id)
    url = f"{stack['reporter'].url}/v1/networks/{network.network_id}/dashboard"
    say("Services en marche (Kafka et FerretDB aussi) :")
    for service in stack.services.values():
        say(f"  {service.name} {service.url}")
    say("Tableau de bord (jeton valable 1 h) :")
    say(f"curl -H 'Authorization: Bearer {token}' {url}")
    pids = " ".join(str(s.process.pid) for s in stack.services.values() if s.process)
    say(f"Pour tout arrêter : kill {pids} && deploy/local/services.sh stop")
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boucle-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--keep-running", action="store_true", help="leave the services running")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return asyncio.run(run(parser.parse_args(argv)))
    except KeyboardInterrupt:
        say("Interrompu : services arrêtés")
        return 130


if __name__ == "__main__":
    sys.exit(main())
