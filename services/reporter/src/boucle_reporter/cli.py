"""``python -m boucle_reporter.cli``: build a dossier de preuves, or verify a chain.

    python -m boucle_reporter.cli build --network N --from 2025-01-01 --to 2026-01-01 \\
        [--site S ...] [--lang fr|en] --out dossier.zip
    python -m boucle_reporter.cli verify --network N

Reads the reporter's MongoDB (``BOUCLE_REPORTER_MONGODB_URI``, ``…_MONGODB_DATABASE``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from boucle_reporter.adapters.mongo import MongoEvidenceLog, MongoReadModel
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.pack import build_pack
from boucle_reporter.settings import ReporterSettings
from boucle_reporter.signing import key_ring
from boucle_reporter.verify import main as verify_main
from boucle_runtime.mongo import mongo_client

console = Console(stderr=True)


def _write(out: Path, content: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)


async def build(settings: ReporterSettings, request: BuildRequest, out: Path) -> int:
    client = mongo_client(settings, app_name="boucle-reporter-cli")
    keys = key_ring(settings)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f} %"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("Dossier de preuves", total=1.0)

            async def progress(fraction: float, step: str) -> None:
                bar.update(task, completed=fraction, description=f"Dossier de preuves: {step}")

            pack = await build_pack(
                read_model=MongoReadModel(client, settings.mongodb_database),
                evidence=MongoEvidenceLog(client, settings.mongodb_database),
                request=request,
                progress=progress,
                key=keys.evidence_key,
            )
    finally:
        await client.close()
    content = pack.archive()
    await asyncio.to_thread(_write, out, content)
    console.print(
        f"{out}: {len(content)} octets, {len(pack.files)} documents, "
        f"{len(pack.gaps)} écart(s) au contrôle de préparation"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boucle-reporter-cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build a dossier de preuves (zip)")
    build_cmd.add_argument("--network", required=True)
    build_cmd.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
    build_cmd.add_argument(
        "--to", dest="end", required=True, type=date.fromisoformat, help="exclusive"
    )
    build_cmd.add_argument("--site", dest="sites", action="append", default=[])
    build_cmd.add_argument("--lang", choices=("fr", "en"), default="fr")
    build_cmd.add_argument("--out", required=True, type=Path)
    verify_cmd = commands.add_parser("verify", help="verify a network's evidence chain")
    verify_cmd.add_argument("--network", required=True)
    verify_cmd.add_argument("--public-key", action="append", default=[])
    verify_cmd.add_argument("--head", action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "verify":
        options = [f"--public-key={k}" for k in args.public_key]
        options += [f"--head={h}" for h in args.head]
        return verify_main(["--network", args.network, *options])
    try:
        request = BuildRequest(
            network_id=args.network,
            start=args.start,
            end=args.end,
            sites=tuple(args.sites),
            language=args.lang,
        )
    except ValueError as error:
        parser.error(str(error))
    return asyncio.run(build(ReporterSettings(), request, args.out))


if __name__ == "__main__":
    sys.exit(main())
