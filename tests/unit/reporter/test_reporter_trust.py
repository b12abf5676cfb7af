"""What makes an auditor trust a dossier: text stays text, the log verifies offline, no
future rows, one period everywhere, statuses that agree, rates that are rates."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from bench.reporter.scenario import NETWORK, NOW, PERIOD, complaint, gap_events, replayed
from openpyxl import load_workbook  # type: ignore[import-untyped]

from boucle_contracts.registry import AnyEvent
from boucle_reporter.adapters import charts, render
from boucle_reporter.adapters.ed25519 import Ed25519Signer, generate_private_pem
from boucle_reporter.adapters.xlsx import Sheet, sheet_title, workbook
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.figures import ReportFigures, RoleRate
from boucle_reporter.domain.read_model import ActionView
from boucle_reporter.domain.tracking import action_row, neutralised, rows_to_csv
from boucle_reporter.pack import EvidenceKey, Pack, build_pack

pytestmark = pytest.mark.unit
SIGNER = Ed25519Signer(generate_private_pem())
FORMULA = '=HYPERLINK("http://x","clic")'


def _with_formula_subject() -> list[AnyEvent]:
    received, opened = complaint("lyon", "rec-9", 6)
    received = received.model_copy(
        update={"data": received.data.model_copy(update={"subject": FORMULA})}
    )
    opened = opened.model_copy(
        update={"data": opened.data.model_copy(update={"summary": "+33 1 23 45 67 89"})}
    )
    return [*gap_events(), received, opened]


async def _pack(events: list[AnyEvent], now: datetime = NOW) -> Pack:
    evidence, read_model = await replayed(events)
    evidence.signer = SIGNER
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1])
    return await build_pack(
        read_model=read_model,
        evidence=evidence,
        request=request,
        now=now,
        key=EvidenceKey(SIGNER, SIGNER.public_pem),
    )


@pytest.fixture(scope="module")
async def archive() -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO((await _pack(_with_formula_subject())).archive()))


def _csv(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    text = archive.read(name).decode("utf-8").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


# --- formulas -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_beginning_like_a_formula_is_neutralised(text: str) -> None:
    assert neutralised(text) == "'" + text
    assert neutralised("Plateforme = instable") == "Plateforme = instable"


def test_numbers_stay_numbers_in_the_csv() -> None:
    text = rows_to_csv(["a", "b", "c"], [[-1.5, -3, "-3"]])

    assert text.splitlines()[1] == "-1,5;-3;'-3"


def test_a_formula_in_a_complaint_subject_stays_text(archive: zipfile.ZipFile) -> None:
    register = _csv(archive, "registre-reclamations.csv")
    row = next(r for r in register if r[0] == "rec-9")
    assert row[6] == "'" + FORMULA
    tracking = _csv(archive, "tableau-de-suivi.csv")
    assert next(r for r in tracking if r[3] == "rec-9")[4] == "'+33 1 23 45 67 89"

    sheet = load_workbook(io.BytesIO(archive.read("registre-reclamations.xlsx"))).active
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "rec-9")
    assert (cells[6].value, cells[6].data_type) == (FORMULA, "s")
    answered = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "rec-1")
    assert (answered[9].value, answered[9].data_type) == (1.0, "n")  # a delay is a number
    tracking_sheet = load_workbook(io.BytesIO(archive.read("tableau-de-suivi.xlsx"))).active
    summary = next(r for r in tracking_sheet.iter_rows(min_row=2) if r[3].value == "rec-9")[4]
    assert (summary.value, summary.data_type) == ("+33 1 23 45 67 89", "s")


# --- sheet names ----------------------------------------------------------------------------


def test_sheet_names_stay_within_excels_limits(archive: zipfile.ZipFile) -> None:
    assert sheet_title("Tableau de suivi des mesures d'amélioration [2025]") == (
        "Tableau de suivi des mesures d"
    )
    assert sheet_title("a/b\\c:d*e?f[g]h") == "a b c d e f g h"
    assert sheet_title("'") == "Feuille"
    names = {
        name: load_workbook(io.BytesIO(archive.read(name))).sheetnames
        for name in ("tableau-de-suivi.xlsx", "registre-reclamations.xlsx")
    }
    assert names == {
        "tableau-de-suivi.xlsx": ["Suivi des mesures"],
        "registre-reclamations.xlsx": ["Registre des réclamations"],
    }
    book = load_workbook(io.BytesIO(workbook([Sheet("x" * 40 + ":?", ["a"], [["b"]])])))
    assert book.sheetnames == ["x" * 31]


# --- offline verification kit ------------------------------------------------------------


def _extract(archive: zipfile.ZipFile, into: Path) -> Path:
    archive.extractall(into)
    return into


def _verify(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "verification" / "verifier.py"), str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_build_verifies_its_chain_first_and_says_so(archive: zipfile.ZipFile) -> None:
    manifest = json.loads(archive.read("manifest.json"))
    journal = json.loads(archive.read("journal-preuves.json"))
    checked = manifest["chain_verified"]

    assert checked["ok"] is True
    assert (
        checked["head"]
        == journal["head"]
        == {
            "seq": journal["signed_head"]["seq"],
            "hash": journal["signed_head"]["hash"],
        }
    )
    assert journal["last_verification"]["verified_at"] == checked["verified_at"]
    lines = archive.read("verification/entrees.jsonl").decode().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, checked["entries"] + 1))
    assert all("body" not in json.loads(line) for line in lines)  # v2: hashes only
    assert "LISEZMOI" in archive.read("index-des-preuves.html").decode()
    readme = archive.read("verification/LISEZMOI.txt").decode()
    assert "python3 dossier/verification/verifier.py dossier --cle-publique cle.pem" in readme


def test_the_offline_verifier_passes_on_the_dossier(
    archive: zipfile.ZipFile, tmp_path: Path
) -> None:
    result = _verify(_extract(archive, tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "RÉSULTAT : journal de preuves intègre" in result.stdout
    assert "Signature de la tête : valide" in result.stdout


def test_the_offline_verifier_fails_on_an_edited_hash(
    archive: zipfile.ZipFile, tmp_path: Path
) -> None:
    root = _extract(archive, tmp_path)
    entries = root / "verification" / "entrees.jsonl"
    lines = entries.read_text().splitlines()
    edited = json.loads(lines[4])
    edited["body_hash"] = "f" * 64
    lines[4] = json.dumps(edited)
    entries.write_text("\n".join(lines) + "\n")

    result = _verify(root)

    assert result.returncode == 1
    assert "ÉCHEC : entrée n° 5 : l'empreinte de l'entrée ne correspond pas" in result.stdout
    assert "ÉCHEC : fichier modifié (empreinte différente) : verification/entrees.jsonl" in (
        result.stdout
    )


def test_the_offline_verifier_fails_on_a_removed_entry(
    archive: zipfile.ZipFile, tmp_path: Path
) -> None:
    root = _extract(archive, tmp_path)
    entries = root / "verification" / "entrees.jsonl"
    lines = entries.read_text().splitlines()
    entries.write_text("\n".join(lines[:9] + lines[10:]) + "\n")

    result = _verify(root)

    assert result.returncode == 1
    assert "entrée n° 11 trouvée là où la n° 10 était attendue (entrée supprimée" in result.stdout


def test_the_offline_verifier_fails_on_a_forged_head(
    archive: zipfile.ZipFile, tmp_path: Path
) -> None:
    root = _extract(archive, tmp_path)
    entries = root / "verification" / "entrees.jsonl"
    lines = entries.read_text().splitlines()
    entries.write_text("\n".join(lines[:-1]) + "\n")  # the tail removed…
    journal = json.loads((root / "journal-preuves.json").read_text())
    last = json.loads(lines[-2])
    journal["signed_head"] |= {"seq": last["seq"], "hash": last["hash"]}  # …and the head moved
    (root / "journal-preuves.json").write_text(json.dumps(journal))

    result = _verify(root)

    assert result.returncode == 1
    assert "ÉCHEC : signature de la tête de chaîne invalide" in result.stdout


# --- dates, period, statuses --------------------------------------------------------------


async def test_no_row_is_dated_after_the_dossier_was_generated() -> None:
    now = datetime(2025, 6, 15, 12, tzinfo=UTC)
    archive = zipfile.ZipFile(io.BytesIO((await _pack(_with_formula_subject(), now)).archive()))

    for name in ("tableau-de-suivi.csv", "registre-reclamations.csv"):
        rows = _csv(archive, name)[1:]
        days = [date.fromisoformat(r[0 if name.startswith("tableau") else 2]) for r in rows]
        assert days, name
        assert max(days) <= now.date(), name


def test_the_period_agrees_in_manifest_report_index_and_file_name(
    archive: zipfile.ZipFile,
) -> None:
    manifest = json.loads(archive.read("manifest.json"))
    first, last = manifest["period"]["from"], manifest["period_last_day"]

    assert (first, last) == ("2025-01-01", "2025-12-31")
    assert manifest["file_name"] == f"dossier-de-preuves-{NETWORK}-{first}-{last}.zip"
    for name in ("bilan.html", "index-des-preuves.html"):
        html = archive.read(name).decode()
        assert f'data-from="{first}" data-last-day="{last}">du 01/01/2025 au 31/12/2025' in html


ACTION = ActionView(
    action_id="act-1",
    site_id="lyon",
    title="Changer d'hébergeur",
    problem="Coupures",
    origin="complaint_case",
    source_kinds=("complaint",),
    source_refs=("rec-1",),
    status="effective",
    created_at=datetime(2025, 3, 18, tzinfo=UTC),
    started_at=datetime(2025, 3, 21, tzinfo=UTC),
    finished_at=datetime(2025, 4, 20, tzinfo=UTC),
)


def test_effectiveness_is_a_result_not_a_status() -> None:
    row = action_row(ACTION)
    not_effective = action_row(dataclasses.replace(ACTION, status="not_effective"))

    assert (row.status, row.effectiveness, row.finished) == (
        "Réalisée",
        "Efficace",
        date(2025, 4, 20),
    )
    assert (not_effective.status, not_effective.effectiveness) == ("Réalisée", "Non efficace")


def test_a_reopened_action_has_no_end_date() -> None:
    row = action_row(dataclasses.replace(ACTION, status="reopened", outcome="not_effective"))

    assert (row.status, row.finished, row.effectiveness) == ("Rouverte", None, "Non efficace")


# --- response rates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "expected", "reason"),
    [
        (RoleRate("learner", 535, 516), None, "rep.rate_inconsistent"),
        (RoleRate("learner", 24, 0), None, "rep.rate_inconsistent"),
        (RoleRate("learner", 24), None, "rep.rate_unknown_solicited"),
        (RoleRate("learner", 10, 40), 0.25, None),
    ],
)
def test_a_response_rate_is_respondents_over_people_solicited(
    rate: RoleRate, expected: float | None, reason: str | None
) -> None:
    assert (rate.rate, rate.unknown_reason) == (expected, reason)


def test_unknown_rates_are_said_in_words_and_never_drawn(
    archive: zipfile.ZipFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = archive.read("bilan.html").decode()
    table = re.search(r'<table id="response-rates">.*?</table>', html, re.S)
    assert table is not None
    unknown = "taux de réponse non calculable : nombre de personnes sollicitées inconnu"
    assert table.group(0).count(unknown) == 4
    assert "%" not in table.group(0)

    drawn: list[tuple[list[str], bool]] = []

    def bar_chart(
        labels: Sequence[str], values: Sequence[float], *, percent: bool = False, language: str
    ) -> str:
        drawn.append((list(labels), percent))
        return ""

    monkeypatch.setattr(charts, "bar_chart", bar_chart)
    figures = ReportFigures(
        months=[],
        satisfaction={},
        action_marks=[],
        response_rates=[RoleRate("learner", 10, 40), RoleRate("funder", 3)],
        complaints_by_category=Counter(),
        dropouts_by_reason=Counter(),
        actions_by_status=Counter(),
        outcomes=Counter(),
        incidents_by_kind=Counter(),
        difficulties=[],
    )
    render.report_charts(figures, "fr")
    assert drawn == [(["Apprenants"], True)]  # the funders' unknown rate has no bar
