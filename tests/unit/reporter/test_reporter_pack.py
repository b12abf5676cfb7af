"""The dossier de preuves, opened as an auditor would: zip, checksums, XLSX, PDF, HTML."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from bench.reporter.scenario import GAPS, NETWORK, NOW, PERIOD, gap_events, replayed
from openpyxl import load_workbook  # type: ignore[import-untyped]
from weasyprint import HTML  # type: ignore[import-untyped]

from boucle_contracts.referential.v1 import PersonNamed, PersonNamedV1, SiteNamed, SiteNamedV1
from boucle_contracts.registry import AnyEvent
from boucle_reporter.adapters import render
from boucle_reporter.adapters.ed25519 import Ed25519Signer, generate_private_pem
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.figures import report_figures
from boucle_reporter.pack import EvidenceKey, Pack, build_pack, load_pack, tracking_table

pytestmark = pytest.mark.unit
EXPECTED_FILES = {
    "SHA256SUMS",
    "bilan.html",
    "bilan.pdf",
    "controle-preparation.json",
    "index-des-preuves.html",
    "journal-preuves.json",
    "manifest.json",
    "registre-reclamations.csv",
    "registre-reclamations.xlsx",
    "tableau-de-suivi.csv",
    "tableau-de-suivi.html",
    "tableau-de-suivi.pdf",
    "tableau-de-suivi.xlsx",
    "verification/LISEZMOI.txt",
    "verification/entrees.jsonl",
    "verification/verifier.py",
}
CHARTS = (
    "chart-satisfaction",
    "chart-response-rates",
    "chart-complaints",
    "chart-dropouts",
    "chart-actions",
    "chart-outcomes",
)


SIGNER = Ed25519Signer(generate_private_pem())  # the tests' key: heads are signed


async def _pack(language: str = "fr", sites: tuple[str, ...] = ()) -> Pack:
    evidence, read_model = await replayed(gap_events())
    evidence.signer = SIGNER
    await evidence.verify(network_id=NETWORK)
    request = BuildRequest(
        network_id=NETWORK, start=PERIOD[0], end=PERIOD[1], sites=sites, language=language
    )
    steps: list[str] = []

    async def progress(_: float, step: str) -> None:
        steps.append(step)

    pack = await build_pack(
        read_model=read_model,
        evidence=evidence,
        request=request,
        now=NOW,
        progress=progress,
        key=EvidenceKey(SIGNER, SIGNER.public_pem),
    )
    assert steps[0] == "read_model"
    assert steps[-1] == "done"
    return pack


@pytest.fixture(scope="module")
async def archive() -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO((await _pack()).archive()))


def _texts(box: object) -> Iterator[str]:
    text = getattr(box, "text", None)
    if isinstance(text, str):
        yield text
    for child in getattr(box, "children", ()):
        yield from _texts(child)


def test_the_zip_holds_every_document_with_verified_checksums(archive: zipfile.ZipFile) -> None:
    assert set(archive.namelist()) == EXPECTED_FILES
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["files"]) == EXPECTED_FILES - {"manifest.json", "SHA256SUMS"}
    for name, described in manifest["files"].items():
        content = archive.read(name)
        assert hashlib.sha256(content).hexdigest() == described["sha256"], name
        assert len(content) == described["bytes"]
    lines = archive.read("SHA256SUMS").decode().splitlines()
    sums = {name: digest for digest, name in (line.split("  ") for line in lines)}
    assert sums == {name: f["sha256"] for name, f in manifest["files"].items()}
    assert manifest["period"] == {"from": "2025-01-01", "to": "2026-01-01"}
    assert manifest["findings"] == len(GAPS)


def test_the_tracking_spreadsheet_is_formatted_for_people(archive: zipfile.ZipFile) -> None:
    sheet = load_workbook(io.BytesIO(archive.read("tableau-de-suivi.xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]

    assert header[:5] == ("Date", "Site", "Source", "Références des sources", "Constat")
    assert "Parties prenantes informées" in header
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:T{len(rows)}"
    assert sheet.cell(row=1, column=1).font.bold
    assert sheet.column_dimensions["E"].width > sheet.column_dimensions["A"].width
    assert all(isinstance(r[0], datetime) for r in body)
    assert sheet.cell(row=2, column=1).number_format == "DD/MM/YYYY"
    # 24 monthly analyses (2 sites x 12), 2 complaint cases, 5 actions (no measure recorded:
    # one row each)
    sources = [r[2] for r in body]
    assert sources.count("Analyse des appréciations") == 24 + 1  # act-2 comes from a degradation
    assert sources.count("Réclamation") == 2 + 4
    column = dict(zip(header, range(len(header)), strict=True))
    measure, action = column["Mesure"], column["Action d'amélioration"]
    act1 = next(r for r in body if r[action] == "act-1" and r[measure].startswith("Aucune"))
    assert {
        name: act1[column[name]]
        for name in (
            "Analyse des causes",
            "Mesure",
            "Responsable",
            "Échéance",
            "Début",
            "Fin",
            "Statut",
            "Efficacité",
        )
    } == {
        "Analyse des causes": "Hébergeur saturé",
        "Mesure": "Aucune mesure enregistrée",
        "Responsable": "resp-qualite",
        "Échéance": datetime(2025, 9, 30),
        "Début": datetime(2025, 4, 1),
        "Fin": datetime(2025, 5, 15),
        "Statut": "Réalisée",
        "Efficacité": "Efficace : 2,40 (n = 40) avant, 4,10 (n = 45) après",
    }
    complaint = next(r for r in body if r[3] == "rec-1" and r[action] and r is not act1)
    assert complaint[column["Réponse apportée (correction)"]] == "Nous changeons d'hébergeur."
    assert complaint[column["Action d'amélioration"]] == "act-1"
    table = archive.read("tableau-de-suivi.csv").decode("utf-8")
    csv_rows = list(csv.reader(io.StringIO(table.removeprefix("\ufeff")), delimiter=";"))
    assert len(csv_rows) == len(rows)
    assert csv_rows[0] == list(header)


def test_the_complaint_register_times_answers_against_deadlines(archive: zipfile.ZipFile) -> None:
    sheet = load_workbook(io.BytesIO(archive.read("registre-reclamations.xlsx"))).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}

    assert set(rows) == {"rec-1", "rec-2"}
    answered, unanswered = rows["rec-1"], rows["rec-2"]
    assert answered[1:6] == ("lyon", datetime(2025, 3, 3), "Courriel", "Apprenant", "Plateforme")
    assert answered[7:14] == (
        datetime(2025, 3, 5),
        datetime(2025, 3, 4),
        1.0,
        datetime(2025, 3, 17),
        datetime(2025, 3, 10),
        7.0,
        "Oui",
    )
    assert (unanswered[11], unanswered[13], unanswered[14]) == (None, "Non", "Reçue")
    register_csv = archive.read("registre-reclamations.csv").decode("utf-8")
    assert ";1,0;2025-03-17;2025-03-10;7,0;Oui;Répondue;act-1\r\n" in register_csv


def test_the_report_embeds_every_chart_and_the_figures(archive: zipfile.ZipFile) -> None:
    html = archive.read("bilan.html").decode("utf-8")

    for chart in CHARTS:
        assert re.search(rf'id="{chart}"[^>]*src="data:image/png;base64,[A-Za-z0-9+/]{{500}}', html)
    summary = dict(re.findall(r'data-key="(\w+)">(\d+)<', html))
    # 2 sites: 4 learners, 1 trainer, 1 company each; 1 funder at lyon
    assert summary == {
        "responses": "13",
        "enrolments": "10",
        "dropouts": "2",
        "complaints": "2",
        "actions": "5",
        "effective": "1",
    }
    assert html.count('class="finding"') == len(GAPS)


def test_the_pdf_is_the_same_report(archive: zipfile.ZipFile) -> None:
    pdf = archive.read("bilan.pdf")
    html = archive.read("bilan.html").decode("utf-8")

    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 50_000
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= len(CHARTS)
    document = HTML(string=html).render()
    text = " ".join(t for page in document.pages for t in _texts(page._page_box))
    assert len(document.pages) >= 2
    assert "Bilan d'amélioration continue" in text
    assert "Réclamation sans réponse" in text


def test_the_evidence_index_maps_documents_to_indicators(archive: zipfile.ZipFile) -> None:
    html = archive.read("index-des-preuves.html").decode("utf-8")
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td>", html)

    assert {indicator for indicator, _ in rows} == {"30", "31", "32"}
    assert ("32", "Tableau de suivi des mesures prises (réclamations, aléas, difficultés)") in rows
    assert 'href="registre-reclamations.xlsx"' in html
    chain = json.loads(archive.read("journal-preuves.json"))
    assert chain["head"]["seq"] == len(gap_events())
    assert chain["last_verification"]["ok"] is True
    assert chain["last_verification"]["head"] == chain["head"]
    assert 'id="chain" class="ok"' in html
    gaps = json.loads(archive.read("controle-preparation.json"))
    assert sorted((g["indicator"], g["code"], g["site"], g["subject"]) for g in gaps) == sorted(
        GAPS
    )


async def test_an_english_pack_for_an_auditor_sample() -> None:
    pack = await _pack(language="en", sites=("lyon",))

    table = pack.files["tableau-de-suivi.csv"].decode("utf-8")
    assert table.removeprefix("\ufeff").startswith(
        "Date;Site;Source;Source references;Finding;Root-cause analysis"
    )
    assert "paris" not in table
    assert "Continuous improvement report" in pack.files["bilan.html"].decode()
    assert pack.gaps == []
    assert "No gap: the pack is ready." in pack.files["index-des-preuves.html"].decode()


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end must be after"):
        BuildRequest(network_id=NETWORK, start=date(2025, 2, 1), end=date(2025, 2, 1))


async def test_sites_and_people_are_shown_by_the_names_the_referential_gives() -> None:
    named: list[AnyEvent] = [
        SiteNamedV1.create(
            network_id=NETWORK,
            site_id="lyon",
            source="/tests",
            data=SiteNamed(site_id="lyon", name="Lyon Part-Dieu"),
        ),
        PersonNamedV1.create(
            network_id=NETWORK,
            source="/tests",
            data=PersonNamed(
                person_id="resp-qualite", name="Claire Martin", title="Responsable qualité"
            ),
        ),
    ]
    _, read_model = await replayed(gap_events() + named)
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1], sites=("lyon",))

    data = await load_pack(read_model, request, NOW)  # names read whatever the sites
    rows = tracking_table(data)
    board = render.dashboard_html(data, report_figures(data, NOW.date()), [], [])

    assert {r.site for r in rows} == {"Lyon Part-Dieu"}
    assert {r.owner for r in rows if r.owner} == {"Claire Martin (Responsable qualité)"}
    assert "Claire Martin (Responsable qualité)" in board
    assert "Lyon Part-Dieu" in board
