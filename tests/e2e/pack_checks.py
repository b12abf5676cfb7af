"""What an auditor checks in a dossier de preuves, read from its files only.

Shared by the main job's end-to-end test and usable on any pack ``make demo`` wrote:

    .venv/bin/python -m tests.e2e.pack_checks out/reseau-horizon/dossier-de-preuves.zip
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path
from typing import Any

from boucle_reporter.domain.register import register_columns
from boucle_reporter.domain.tracking import COLUMN_KEYS, DATE_COLUMNS, columns

TRACKING = dict(zip(COLUMN_KEYS, columns("fr"), strict=True))
CASE_SOURCES = frozenset({"Réclamation", "Aléa", "Difficulté"})
PERCENT = re.compile(r"(-?\d[\d\u00a0\u202f ]*(?:[.,]\d+)?)[\u00a0\u202f ]?%")
FR_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def generated_at(archive: zipfile.ZipFile) -> datetime:
    return datetime.fromisoformat(json.loads(archive.read("manifest.json"))["generated_at"])


def tracking_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return _csv(archive, "tableau-de-suivi.csv")


def register_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return _csv(archive, "registre-reclamations.csv")


def parse_day(text: str) -> date | None:
    """A cell's date, ISO (2026-10-19, 2026-10-19T…) or French (19/10/2026); None if none."""
    text = text.strip()
    if not text:
        return None
    found = FR_DATE.match(text)
    if found:
        day, month, year = (int(g) for g in found.groups())
        return date(year, month, day)
    try:
        return datetime.fromisoformat(text[:10]).date()
    except ValueError:
        return None


def case_rows(
    archive: zipfile.ZipFile, refs: Collection[str] | None = None
) -> list[dict[str, str]]:
    """Rows of complaints, hazards and difficulties in the tracking table: a row of the
    source ``refs`` (without them: a row of one source, not an action's)."""
    rows = [r for r in tracking_rows(archive) if r[TRACKING["source"]] in CASE_SOURCES]
    reference = TRACKING["reference"]
    if refs is None:
        return [r for r in rows if "," not in r[reference] and not r[TRACKING["objective"]]]
    return [r for r in rows if r[reference] in refs]


def unanswered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Complaints, hazards and difficulties without the answer given (the correction)."""
    return [r for r in rows if not r[TRACKING["correction"]].strip()]


def future_dates(archive: zipfile.ZipFile) -> list[str]:
    """Date cells, in the tracking table and the register, after the pack was generated."""
    today = generated_at(archive).date()
    late: list[str] = []
    for row in tracking_rows(archive):
        for key in DATE_COLUMNS - {"due"}:  # a due date may lie ahead
            day = parse_day(row[TRACKING[key]])
            if day is not None and day > today:
                late.append(f"tableau {TRACKING[key]} {day}")
    due = {register_columns("fr")[i] for i in (7, 10)}  # AR dû le, Réponse due le
    for row in register_rows(archive):
        for name, value in row.items():
            day = parse_day(value or "")
            if name not in due and day is not None and day > today:
                late.append(f"registre {name} {day}")
    return late


def text_of_html(archive: zipfile.ZipFile, name: str) -> str:
    raw = archive.read(name).decode("utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def percentages(archive: zipfile.ZipFile) -> list[float]:
    """Every percentage the report prints."""
    values = []
    for match in PERCENT.finditer(text_of_html(archive, "bilan.html")):
        digits = re.sub(r"[\u00a0\u202f ]", "", match.group(1)).replace(",", ".")
        values.append(float(digits))
    return values


def verify_offline(
    archive: zipfile.ZipFile, *, tamper: bool = False
) -> subprocess.CompletedProcess[str]:
    """The dossier's own verifier, run as an auditor would, on a copy (edited if ``tamper``:
    one entry of the log changed by one character)."""
    chain = json.loads(archive.read("journal-preuves.json"))
    pem = (chain.get("public_key") or {}).get("pem")
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        archive.extractall(folder / "dossier")
        if tamper:
            _tamper(folder / "dossier")
        command = [sys.executable, str(folder / "dossier" / "verification" / "verifier.py")]
        command.append(str(folder / "dossier"))
        if pem:
            (folder / "cle.pem").write_text(pem)
            command += ["--cle-publique", str(folder / "cle.pem")]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def _tamper(folder: Path) -> None:
    """Change one entry of the evidence log: the first hex digit of its content's hash."""
    entries = folder / "verification" / "entrees.jsonl"
    text = entries.read_text(encoding="utf-8")
    edited = re.sub(
        r'("body_hash": ?")([0-9a-f])',
        lambda m: m.group(1) + ("0" if m.group(2) != "0" else "1"),
        text,
        count=1,
    )
    assert edited != text, f"no entry to edit in {entries}"
    entries.write_text(edited, encoding="utf-8")


def main(argv: list[str]) -> int:
    archive = zipfile.ZipFile(argv[0])
    report: dict[str, Any] = {
        "generated_at": generated_at(archive).isoformat(),
        "case_rows": len(case_rows(archive)),
        "unanswered": [r[TRACKING["reference"]] for r in unanswered(case_rows(archive))],
        "percentages": len(percentages(archive)),
        "future_dates": future_dates(archive),
        "percent_out_of_range": [p for p in percentages(archive) if not 0 <= p <= 100],
        "verifier_ok": verify_offline(archive).returncode == 0,
        "verifier_tampered_ok": verify_offline(archive, tamper=True).returncode == 0,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
