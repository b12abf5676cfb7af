"""The dossier de preuves: every document of a scope and period, a manifest and checksums.

Data is read once from the read model (aggregates only), then each document is produced in
a worker thread (charts, spreadsheets and PDF are CPU work: the event loop keeps serving).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from boucle_reporter.adapters import render
from boucle_reporter.adapters.xlsx import Sheet, workbook
from boucle_reporter.domain.chain import ChainHead, Verification
from boucle_reporter.domain.figures import report_figures
from boucle_reporter.domain.i18n import translate
from boucle_reporter.domain.model import BuildRequest, PackData
from boucle_reporter.domain.ports import Document, EvidenceLog, ReadModel
from boucle_reporter.domain.readiness import Finding, readiness
from boucle_reporter.domain.register import register_columns, register_rows
from boucle_reporter.domain.tracking import columns, rows_to_csv, to_csv, tracking_rows
from boucle_reporter.domain.views import assemble, counts_from_month

Progress = Callable[[float, str], Awaitable[None]]

TRACKING_XLSX = "tableau-de-suivi.xlsx"
TRACKING_CSV = "tableau-de-suivi.csv"
REGISTER_XLSX = "registre-reclamations.xlsx"
REGISTER_CSV = "registre-reclamations.csv"
REPORT_HTML = "bilan.html"
REPORT_PDF = "bilan.pdf"
INDEX_HTML = "index-des-preuves.html"
READINESS_JSON = "controle-preparation.json"
CHAIN_JSON = "journal-preuves.json"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"

# (indicator, expected evidence, document, files): the examples of evidence of the RNQ.
EVIDENCE_INDEX: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (30, "ev.30.forms", "doc.report", (REPORT_PDF, REPORT_HTML)),
    (30, "ev.30.results", "doc.report", (REPORT_PDF, TRACKING_XLSX)),
    (31, "ev.31.register", "doc.register", (REGISTER_XLSX, REGISTER_CSV)),
    (31, "ev.31.hazards", "doc.tracking", (TRACKING_XLSX, REPORT_PDF)),
    (32, "ev.32.causes", "doc.report", (REPORT_PDF, TRACKING_XLSX)),
    (32, "ev.32.plans", "doc.tracking", (TRACKING_XLSX, TRACKING_CSV)),
    (32, "ev.32.done", "doc.tracking", (TRACKING_XLSX, REPORT_PDF)),
    (32, "ev.32.table", "doc.tracking", (TRACKING_XLSX, TRACKING_CSV)),
    (32, "ev.all.trail", "doc.evidence_log", (CHAIN_JSON,)),
)


async def _collect(
    read_model: ReadModel, collection: str, request: BuildRequest, **months: str
) -> list[Document]:
    return [
        doc
        async for doc in read_model.documents(
            collection, network_id=request.network_id, sites=request.sites, **months
        )
    ]


async def load_pack(read_model: ReadModel, request: BuildRequest, now: datetime) -> PackData:
    """The read model's documents for the request, cut to its sites and period."""
    last = request.months[-1]
    documents = {
        name: await _collect(read_model, name, request)
        for name in ("sites", "complaints", "incidents", "cases", "actions", "degradations")
    }
    return assemble(
        request,
        now,
        analyses=await _collect(
            read_model, "analyses", request, month_from=request.months[0], month_to=last
        ),
        counts=await _collect(
            read_model, "counts", request, month_from=counts_from_month(request), month_to=last
        ),
        **documents,
    )


@dataclass(slots=True)
class Pack:
    request: BuildRequest
    generated_at: datetime
    files: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        return {
            "network_id": self.request.network_id,
            "period": {"from": self.request.start.isoformat(), "to": self.request.end.isoformat()},
            "sites": list(self.request.sites),
            "language": self.request.language,
            "generated_at": self.generated_at.isoformat(),
            "findings": len(self.findings),
            "files": {
                name: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
                for name, content in sorted(self.files.items())
            },
        }

    def archive(self) -> bytes:
        """The zip: every file, ``manifest.json`` and ``SHA256SUMS`` (``sha256sum -c``)."""
        manifest = self.manifest()
        sums = "".join(f"{f['sha256']}  {name}\n" for name, f in manifest["files"].items())
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in sorted(self.files.items()):
                archive.writestr(name, content)
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            archive.writestr(CHECKSUMS, sums)
        return buffer.getvalue()


def tracking_sheet(data: PackData) -> tuple[Sheet, str]:
    lang = data.request.language
    rows = tracking_rows(
        analyses=data.analyses, cases=data.cases, actions=data.actions, language=lang
    )
    sheet = Sheet(translate(lang, "doc.tracking"), columns(lang), [r.values() for r in rows])
    return sheet, to_csv(rows, lang)


def register_sheet(data: PackData) -> Sheet:
    lang = data.request.language
    rows = register_rows(data.complaints, data.cases, data.generated_at, lang)
    return Sheet(
        translate(lang, "doc.register"), register_columns(lang), [r.values() for r in rows]
    )


def _chain_json(network_id: str, head: ChainHead, verification: Verification | None) -> bytes:
    report = {
        "network_id": network_id,
        "head": {"seq": head.seq, "hash": head.hash},
        "last_verification": verification.report() if verification else None,
        "verify_with": f"python -m boucle_reporter.verify --network {network_id}",
    }
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()


def _findings_json(findings: list[Finding], language: str) -> bytes:
    rows = [asdict(f) | {"message": f.message(language)} for f in findings]
    return (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode()


async def build_pack(
    *,
    read_model: ReadModel,
    evidence: EvidenceLog,
    request: BuildRequest,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Pack:
    now = now or datetime.now(UTC)

    async def step(fraction: float, name: str) -> None:
        if progress:
            await progress(fraction, name)

    await step(0.0, "read_model")
    data = await load_pack(read_model, request, now)
    pack = Pack(request=request, generated_at=now, findings=readiness(data))
    await step(0.15, "evidence_log")
    # The head commits to the whole log in constant time; walking the chain is ``verify``'s
    # job (API, command), and its latest report goes in the dossier as it stands.
    head = await evidence.head(network_id=request.network_id)
    verification = await evidence.last_verification(network_id=request.network_id)
    pack.files[CHAIN_JSON] = _chain_json(request.network_id, head, verification)
    pack.files[READINESS_JSON] = _findings_json(pack.findings, request.language)
    await step(0.25, "tracking_table")
    tracking, tracking_csv = await asyncio.to_thread(tracking_sheet, data)
    register = await asyncio.to_thread(register_sheet, data)
    pack.files[TRACKING_CSV] = tracking_csv.encode("utf-8")
    pack.files[REGISTER_CSV] = rows_to_csv(
        register.columns, register.rows, request.language
    ).encode("utf-8")
    pack.files[TRACKING_XLSX] = await asyncio.to_thread(workbook, [tracking])
    pack.files[REGISTER_XLSX] = await asyncio.to_thread(workbook, [register])
    await step(0.5, "charts")
    figures = report_figures(data, now.date())
    images = await asyncio.to_thread(render.report_charts, figures, request.language)
    await step(0.65, "report")
    html = render.report_html(data, figures, images, pack.findings)
    pack.files[REPORT_HTML] = html.encode("utf-8")
    pack.files[REPORT_PDF] = await asyncio.to_thread(render.pdf, html)
    await step(0.9, "evidence_index")
    pack.files[INDEX_HTML] = render.index_html(
        data, EVIDENCE_INDEX, head, verification, pack.findings
    ).encode("utf-8")
    await step(1.0, "done")
    return pack
