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
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from boucle_reporter.adapters import render
from boucle_reporter.adapters.xlsx import Sheet, workbook
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.chain import ChainEntry, ChainHead, Verification
from boucle_reporter.domain.figures import report_figures
from boucle_reporter.domain.i18n import translate
from boucle_reporter.domain.ports import (
    COLLECTIONS,
    NETWORK_COLLECTIONS,
    Document,
    EvidenceLog,
    ReadModel,
)
from boucle_reporter.domain.read_model import PackData
from boucle_reporter.domain.readiness import Gap, evidence_gaps, readiness
from boucle_reporter.domain.register import register_columns, register_rows
from boucle_reporter.domain.retention import Erasure
from boucle_reporter.domain.signing import Signer, signed_head
from boucle_reporter.domain.tracking import (
    TrackingRow,
    columns,
    rows_to_csv,
    to_csv,
    tracking_rows,
)
from boucle_reporter.domain.view_builders import assemble, counts_from_month

Progress = Callable[[float, str], Awaitable[None]]

TRACKING_XLSX = "tableau-de-suivi.xlsx"
TRACKING_CSV = "tableau-de-suivi.csv"
TRACKING_HTML = "tableau-de-suivi.html"
TRACKING_PDF = "tableau-de-suivi.pdf"
REGISTER_XLSX = "registre-reclamations.xlsx"
REGISTER_CSV = "registre-reclamations.csv"
REPORT_HTML = "bilan.html"
REPORT_PDF = "bilan.pdf"
INDEX_HTML = "index-des-preuves.html"
READINESS_JSON = "controle-preparation.json"
CHAIN_JSON = "journal-preuves.json"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
KIT_ENTRIES = "verification/entrees.jsonl"
KIT_SCRIPT = "verification/verifier.py"
KIT_README = "verification/LISEZMOI.txt"

# (indicator, expected evidence, document, files): the examples of evidence of the RNQ.
EVIDENCE_INDEX: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (30, "ev.30.forms", "doc.report", (REPORT_PDF, REPORT_HTML)),
    (30, "ev.30.results", "doc.report", (REPORT_PDF, TRACKING_XLSX)),
    (31, "ev.31.register", "doc.register", (REGISTER_XLSX, REGISTER_CSV)),
    (31, "ev.31.hazards", "doc.tracking", (TRACKING_XLSX, REPORT_PDF)),
    (32, "ev.32.causes", "doc.report", (REPORT_PDF, TRACKING_XLSX)),
    (32, "ev.32.plans", "doc.tracking", (TRACKING_PDF, TRACKING_XLSX, TRACKING_CSV)),
    (32, "ev.32.done", "doc.tracking", (TRACKING_PDF, TRACKING_XLSX, REPORT_PDF)),
    (32, "ev.32.table", "doc.tracking", (TRACKING_PDF, TRACKING_HTML, TRACKING_XLSX, TRACKING_CSV)),
    (32, "ev.all.trail", "doc.evidence_log", (CHAIN_JSON,)),
)


# What the tracking table is made of: analyses, cases, actions and meetings, degradations for
# the generated figures of an action, and the names of sites and people.
TRACKING_COLLECTIONS = frozenset(
    {"analyses", "cases", "actions", "degradations", "meetings", "names"}
)


async def _collect(
    read_model: ReadModel, collection: str, request: BuildRequest, **months: str
) -> list[Document]:
    sites = () if collection in NETWORK_COLLECTIONS else request.sites
    return [
        doc
        async for doc in read_model.documents(
            collection, network_id=request.network_id, sites=sites, **months
        )
    ]


async def load_pack(
    read_model: ReadModel,
    request: BuildRequest,
    now: datetime,
    *,
    collections: Collection[str] = COLLECTIONS,
) -> PackData:
    """The read model's documents for the request, cut to its sites and period.

    Only ``collections`` are read (all by default); the others count as empty, so what is
    made of them (sites, counts, the register…) is empty too.
    """
    last = request.months[-1]
    months = {
        "analyses": {"month_from": request.months[0], "month_to": last},
        "counts": {"month_from": counts_from_month(request), "month_to": last},
    }
    documents = {
        name: await _collect(read_model, name, request, **months.get(name, {}))
        if name in collections
        else []
        for name in COLLECTIONS
    }
    return assemble(request, now, **documents)


@dataclass(slots=True)
class Pack:
    request: BuildRequest
    generated_at: datetime
    files: dict[str, bytes] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    erased_entries: int = 0  # evidence bodies erased (GDPR): counted, not a gap
    chain_check: Verification | None = None  # the chain as this build verified it

    @property
    def file_name(self) -> str:
        """The zip's name: network and the period's first and last days, as the documents
        and the manifest say them."""
        request = self.request
        return (
            f"dossier-de-preuves-{request.network_id}-"
            f"{request.start.isoformat()}-{request.last_day.isoformat()}.zip"
        )

    def manifest(self) -> dict[str, Any]:
        check = self.chain_check
        return {
            "network_id": self.request.network_id,
            "period": {"from": self.request.start.isoformat(), "to": self.request.end.isoformat()},
            # ``to`` is exclusive: the documents and the file name say the last day
            "period_last_day": self.request.last_day.isoformat(),
            "file_name": self.file_name,
            "sites": list(self.request.sites),
            "language": self.request.language,
            "generated_at": self.generated_at.isoformat(),
            "findings": len(self.gaps),  # the readiness gaps, under the key readers know
            "erased_entries": self.erased_entries,
            # the build walks the chain before anything else and says what it found
            "chain_verified": None
            if check is None
            else {
                "ok": check.ok,
                "entries": check.entries,
                "head": {"seq": check.head.seq, "hash": check.head.hash},
                "broken_at": check.broken_at,
                "problem": check.problem,
                "verified_at": check.verified_at.isoformat() if check.verified_at else None,
            },
            "verification_kit": {
                "entries": KIT_ENTRIES,
                "script": KIT_SCRIPT,
                "instructions": KIT_README,
            },
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


def tracking_table(data: PackData) -> list[TrackingRow]:
    """The rows, none dated after the build: a dossier does not report the future."""
    today = data.generated_at.date()
    rows = tracking_rows(
        analyses=data.analyses,
        cases=data.cases,
        actions=data.actions,
        meetings=[m for m in data.meetings if data.request.covers(m.held_at)],
        language=data.request.language,
        names=data.names,
    )
    return [row for row in rows if row.date <= today]


def tracking_sheet(rows: Sequence[TrackingRow], language: str) -> Sheet:
    return Sheet(
        translate(language, "sheet.tracking"), columns(language), [r.values() for r in rows]
    )


def register_sheet(data: PackData) -> Sheet:
    lang = data.request.language
    today = data.generated_at.date()
    rows = [
        replace(row, site=data.names.site(row.site) or row.site)  # sites by their names
        for row in register_rows(data.complaints, data.cases, data.generated_at, lang)
    ]
    return Sheet(
        translate(lang, "sheet.register"),
        register_columns(lang),
        [r.values() for r in rows if r.received <= today],
    )


def kit_line(entry: ChainEntry) -> str:
    """One entry's link, as the offline verifier reads it. A version 2 link needs only the
    body's hash (no personal data leaves); a version 1 link is over the body itself."""
    link: dict[str, Any] = {
        "seq": entry.seq,
        "v": entry.version,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    }
    if entry.version >= 2:
        link["body_hash"] = entry.body_hash
    else:
        link["body"] = entry.body
    return json.dumps(link, separators=(",", ":"), ensure_ascii=False) + "\n"


async def verification_kit(evidence: EvidenceLog, network_id: str, head: ChainHead) -> bytes:
    """Every entry's link up to the head the dossier signs (constant memory per entry)."""
    lines = io.StringIO()
    async for entry in evidence.links(network_id=network_id, until_seq=head.seq):
        lines.write(kit_line(entry))
    return lines.getvalue().encode("utf-8")


def _kit_file(name: str) -> bytes:
    return resources.files("boucle_reporter").joinpath("kit", name).read_bytes()


@dataclass(frozen=True, slots=True)
class EvidenceKey:
    """What a dossier says about the key that signs its heads: id and public key (PEM)."""

    signer: Signer
    public_pem: str


def _chain_json(
    network_id: str,
    head: ChainHead,
    verification: Verification | None,
    *,
    signed: dict[str, Any],
    key: EvidenceKey | None,
    erasures: list[Erasure],
) -> bytes:
    report = {
        "network_id": network_id,
        "head": {"seq": head.seq, "hash": head.hash},
        "signed_head": signed,
        "public_key": (
            {"algorithm": key.signer.algorithm, "key_id": key.signer.key_id, "pem": key.public_pem}
            if key
            else None
        ),
        "last_verification": verification.report() if verification else None,
        "erased_entries": sum(e.entries for e in erasures),
        "erasures": [e.report() for e in erasures],
        "verify_with": (
            f"python -m boucle_reporter.verify --network {network_id} "
            "--head journal-preuves.json --public-key <public key PEM, obtained separately>"
        ),
        # without the database: the dossier's own kit (verification/LISEZMOI.txt)
        "verify_offline": (
            "python3 verification/verifier.py . --cle-publique <public key PEM, obtained "
            "separately>"
        ),
    }
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()


def _gap_order(gap: Gap) -> tuple[int, str, str, str]:
    return (gap.indicator, gap.code, gap.site, gap.subject)


def _gaps_json(gaps: list[Gap], language: str) -> bytes:
    rows = [gap.report(language) for gap in gaps]
    return (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode()


async def build_pack(
    *,
    read_model: ReadModel,
    evidence: EvidenceLog,
    request: BuildRequest,
    now: datetime | None = None,
    progress: Progress | None = None,
    key: EvidenceKey | None = None,
) -> Pack:
    """``key`` signs the chain head the dossier carries; without it the head is unsigned,
    which the readiness check reports as a gap."""
    now = now or datetime.now(UTC)

    async def step(fraction: float, name: str) -> None:
        if progress:
            await progress(fraction, name)

    await step(0.0, "read_model")
    data = await load_pack(read_model, request, now)
    gaps = readiness(data) + evidence_gaps(request.network_id, signed=key is not None)
    pack = Pack(request=request, generated_at=now, gaps=sorted(gaps, key=_gap_order))
    await step(0.15, "evidence_log")
    # The head commits to the whole log in constant time; walking the chain is ``verify``'s
    # job (API, command), and its latest report goes in the dossier as it stands.
    # The head first, then the walk: the walk covers it even if events arrive meanwhile.
    # A build verifies its chain before anything else (the manifest says what it found),
    # and that report, signed and kept, is the latest verification the dossier carries.
    head = await evidence.head(network_id=request.network_id)
    verification = await evidence.verify(network_id=request.network_id)
    pack.chain_check = verification
    erasures = await evidence.erasures(network_id=request.network_id)
    pack.erased_entries = sum(e.entries for e in erasures)
    signed = signed_head(request.network_id, head, key.signer if key else None, now)
    pack.files[CHAIN_JSON] = _chain_json(
        request.network_id, head, verification, signed=signed, key=key, erasures=erasures
    )
    pack.files[READINESS_JSON] = _gaps_json(pack.gaps, request.language)
    pack.files[KIT_ENTRIES] = await verification_kit(evidence, request.network_id, head)
    pack.files[KIT_SCRIPT] = _kit_file("verifier.py")
    pack.files[KIT_README] = _kit_file("LISEZMOI.txt")
    await step(0.25, "tracking_table")
    tracking = await asyncio.to_thread(tracking_table, data)
    register = await asyncio.to_thread(register_sheet, data)
    tracking_csv = await asyncio.to_thread(to_csv, tracking, request.language)
    pack.files[TRACKING_CSV] = tracking_csv.encode("utf-8")
    pack.files[REGISTER_CSV] = rows_to_csv(
        register.columns, register.rows, request.language
    ).encode("utf-8")
    pack.files[TRACKING_XLSX] = await asyncio.to_thread(
        workbook, [tracking_sheet(tracking, request.language)]
    )
    pack.files[REGISTER_XLSX] = await asyncio.to_thread(workbook, [register])
    tracking_page = render.tracking_html(data, tracking)
    pack.files[TRACKING_HTML] = tracking_page.encode("utf-8")
    pack.files[TRACKING_PDF] = await asyncio.to_thread(render.pdf, tracking_page)
    await step(0.5, "charts")
    figures = report_figures(data, now.date())
    images = await asyncio.to_thread(render.report_charts, figures, request.language)
    await step(0.65, "report")
    html = render.report_html(data, figures, images, pack.gaps)
    pack.files[REPORT_HTML] = html.encode("utf-8")
    pack.files[REPORT_PDF] = await asyncio.to_thread(render.pdf, html)
    await step(0.9, "evidence_index")
    pack.files[INDEX_HTML] = render.index_html(
        data, EVIDENCE_INDEX, head, verification, pack.gaps, signed=signed, erasures=erasures
    ).encode("utf-8")
    await step(1.0, "done")
    return pack
