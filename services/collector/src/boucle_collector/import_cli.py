"""Import a CSV or XLSX survey export through a running collector, with a progress bar.

    python -m boucle_collector.import_cli export.xlsx --url http://127.0.0.1:8081 \\
        --network reseau-horizon --site lyon-part-dieu --form satisfaction-papier

The API key is read from the environment (``--api-key-env``, default
``BOUCLE_COLLECTOR_API_KEY``), never from the command line. The file is read here and sent
in chunks of rows as CSV to ``/v1/imports/…``, so the bar follows the rows; a chunk answered
``503`` or ``429`` is sent again after ``Retry-After`` (re-sending is safe: rows already
accepted come back as duplicates). Exit code: 0 all rows accepted or duplicates, 1 some rows
invalid (listed), 2 the collector refused the request or stayed unavailable.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

from boucle_collector.adapters.tabular_files import TableError, read_table
from boucle_collector.domain.tabular import Cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ATTEMPTS = 6


class ImportFailedError(RuntimeError):
    """The collector refused a chunk (not a row): the message carries its answer."""


def _csv_chunk(columns: list[str], rows: Sequence[dict[str, Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=";")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        )
    return out.getvalue().encode("utf-8")


def _send(http: httpx.Client, url: str, content: bytes, form: str) -> dict[str, Any]:
    for _ in range(MAX_ATTEMPTS):
        reply = http.post(
            url, content=content, params={"form": form}, headers={"content-type": "text/csv"}
        )
        if reply.status_code in (429, 503):
            time.sleep(float(reply.headers.get("Retry-After", "5")))
            continue
        if reply.status_code != 200:
            raise ImportFailedError(f"{reply.status_code}: {reply.text}")
        result: dict[str, Any] = reply.json()
        return result
    raise ImportFailedError(f"still unavailable after {MAX_ATTEMPTS} attempts")


def import_file(
    path: Path,
    *,
    url: str,
    network: str,
    site: str,
    form: str,
    api_key: str,
    chunk_size: int = 500,
    console: Console | None = None,
) -> tuple[Counter[str], list[tuple[int, list[str]]]]:
    """Send the file; the count of rows by status, and the invalid rows with their errors."""
    console = console or Console(stderr=True)
    content_type = XLSX if path.suffix.lower() == ".xlsx" else "text/csv"
    rows = read_table(path.read_bytes(), content_type)
    columns = list(dict.fromkeys(column for row in rows for column in row))
    endpoint = f"{url.rstrip('/')}/v1/imports/networks/{network}/sites/{site}/survey-responses"
    counts: Counter[str] = Counter()
    invalid: list[tuple[int, list[str]]] = []
    with (
        httpx.Client(headers={"X-Api-Key": api_key}, timeout=60) as http,
        Progress(console=console) as progress,
    ):
        task = progress.add_task(f"Import de {path.name}", total=len(rows))
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            result = _send(http, endpoint, _csv_chunk(columns, chunk), form)
            for item in result["items"]:
                counts[item["status"]] += 1
                if item["status"] == "invalid":
                    # Line in the chunk, shifted by the rows of the chunks before it.
                    invalid.append((item["line"] + start, item["errors"]))
            progress.advance(task, len(chunk))
    return counts, invalid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boucle_collector.import_cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="CSV or XLSX export, first line = column names")
    parser.add_argument("--url", default="http://127.0.0.1:8081", help="Collector base URL")
    parser.add_argument("--network", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--form", required=True, help="Form id mapped in the integration")
    parser.add_argument("--api-key-env", default="BOUCLE_COLLECTOR_API_KEY")
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    api_key = os.environ.get(args.api_key_env, "")
    if not api_key:
        console.print(f"[red]Variable d'environnement {args.api_key_env} absente (clé d'API).")
        return 2
    try:
        counts, invalid = import_file(
            args.file,
            url=args.url,
            network=args.network,
            site=args.site,
            form=args.form,
            api_key=api_key,
            chunk_size=args.chunk_size,
            console=console,
        )
    except (OSError, TableError, ImportFailedError, httpx.HTTPError) as exc:
        console.print(f"[red]Import interrompu : {exc}")
        return 2
    console.print(
        f"{counts['accepted']} acceptée(s), {counts['duplicate']} déjà reçue(s), "
        f"{counts['invalid']} invalide(s)"
    )
    for line, errors in invalid:
        console.print(f"  ligne {line} : {'; '.join(errors)}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
