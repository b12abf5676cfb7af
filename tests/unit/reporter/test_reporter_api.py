"""The reporter's HTTP API: request, follow and download builds; tables; verification."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.reporter.scenario import GAPS, NETWORK, gap_events, replayed
from fastapi import Depends, FastAPI, HTTPException, Request
from openpyxl import load_workbook  # type: ignore[import-untyped]
from prometheus_client import CollectorRegistry

from boucle_reporter.access import open_access
from boucle_reporter.adapters import xlsx
from boucle_reporter.adapters.ed25519 import Ed25519Signer, generate_private_pem
from boucle_reporter.adapters.memory import (
    InMemoryBuildStore,
    InMemoryEvidenceLog,
    InMemoryReadModel,
)
from boucle_reporter.api import reports_router
from boucle_reporter.builds import BuildService
from boucle_reporter.domain import tracking
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.ports import Document
from boucle_reporter.domain.projection.write import Write
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.pack import EvidenceKey, build_pack

pytestmark = pytest.mark.unit
PERIOD = {"from": "2025-01-01", "to": "2026-01-01"}


class RecordingReadModel:
    """The in-memory read model, remembering which collections were read."""

    def __init__(self, inner: InMemoryReadModel) -> None:
        self.inner = inner
        self.read: list[str] = []

    async def apply(self, writes: Sequence[Write]) -> None:
        await self.inner.apply(writes)

    def documents(self, collection: str, **query: Any) -> AsyncIterator[Document]:
        self.read.append(collection)
        return self.inner.documents(collection, **query)


@dataclass
class Api:
    http: httpx.AsyncClient
    builds: BuildService
    evidence: InMemoryEvidenceLog
    store: InMemoryBuildStore
    read_model: RecordingReadModel


async def _deny_without_token(request: Request) -> None:
    if request.headers.get("authorization") != "Bearer test":
        raise HTTPException(401, detail="missing token")


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    evidence, replayed_model = await replayed(gap_events())
    signer = Ed25519Signer(generate_private_pem())  # the tests' key: heads are signed
    evidence.signer = signer
    read_model = RecordingReadModel(replayed_model)
    store = InMemoryBuildStore()
    metrics = ReporterMetrics(CollectorRegistry())
    builds = BuildService(
        read_model=read_model,
        evidence=evidence,
        store=store,
        directory=tmp_path,
        metrics=metrics,
        key=EvidenceKey(signer, signer.public_pem),
    )
    app = FastAPI()
    app.include_router(
        reports_router(
            read_model=read_model,
            evidence=evidence,
            builds=builds,
            metrics=metrics,
            access=open_access,
            dependencies=[Depends(_deny_without_token)],
            heads_signed=True,
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://reporter", headers={"authorization": "Bearer test"}
    ) as http:
        yield Api(http, builds, evidence, store, read_model)
    await builds.stop()


async def test_a_build_is_requested_followed_and_downloaded(api: Api) -> None:
    reply = await api.http.post(
        f"/v1/networks/{NETWORK}/builds", json=PERIOD | {"sites": ["lyon", "paris"]}
    )
    assert reply.status_code == 202, reply.text
    build = reply.json()
    assert build["status"] == "queued"
    assert build["download"] is None

    await api.builds.wait()
    state = (await api.http.get(f"/v1/networks/{NETWORK}/builds/{build['build_id']}")).json()
    assert (state["status"], state["progress"], state["error"]) == ("done", 1.0, None)
    assert state["download"].endswith("/dossier.zip")
    listed = (await api.http.get(f"/v1/networks/{NETWORK}/builds")).json()
    assert [b["build_id"] for b in listed] == [build["build_id"]]

    download = await api.http.get(state["download"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert "tableau-de-suivi.xlsx" in archive.namelist()
    assert state["size"] == len(download.content)


async def test_a_build_not_finished_cannot_be_downloaded(api: Api) -> None:
    build = (await api.http.post(f"/v1/networks/{NETWORK}/builds", json=PERIOD)).json()
    await api.builds.stop()  # stopped before it ran: stays queued, resumed at next start

    reply = await api.http.get(f"/v1/networks/{NETWORK}/builds/{build['build_id']}/dossier.zip")

    assert reply.status_code == 409
    assert (await api.store.unfinished())[0].build_id == build["build_id"]


async def test_an_unfinished_build_resumes_after_a_restart(api: Api) -> None:
    build = (await api.http.post(f"/v1/networks/{NETWORK}/builds", json=PERIOD)).json()
    await api.builds.stop()

    await api.builds.resume()
    await api.builds.wait()

    state = (await api.http.get(f"/v1/networks/{NETWORK}/builds/{build['build_id']}")).json()
    assert state["status"] == "done"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2025-06-01", "to": "2025-01-01"}, "to"),
        ({"from": "2025-13-01", "to": "2026-01-01"}, "from"),
        (PERIOD | {"language": "de"}, "language"),
        (PERIOD | {"sites": ["bad site"]}, "sites"),
    ],
)
async def test_bad_requests_name_the_field(api: Api, body: dict[str, object], field: str) -> None:
    reply = await api.http.post(f"/v1/networks/{NETWORK}/builds", json=body)

    assert reply.status_code == 422
    assert field in str(reply.json()["detail"])


async def test_unknown_builds_are_not_found(api: Api) -> None:
    reply = await api.http.get(f"/v1/networks/{NETWORK}/builds/{'0' * 32}")

    assert reply.status_code == 404


async def test_every_route_goes_through_the_access_dependency(api: Api) -> None:
    reply = await api.http.get(
        f"/v1/networks/{NETWORK}/tracking-table.csv", headers={"authorization": ""}
    )

    assert reply.status_code == 401


async def test_the_tracking_table_for_one_site_and_period(api: Api) -> None:
    reply = await api.http.get(
        f"/v1/networks/{NETWORK}/tracking-table.csv",
        params={"site_id": "lyon", "from": "2025-03-01", "to": "2025-04-01"},
    )

    rows = list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff")), delimiter=";"))
    assert {r["Site"] for r in rows} == {"lyon"}
    assert [(r["Références des sources"], r["Action d'amélioration"]) for r in rows] == [
        ("analyse-lyon-2025-03", ""),  # the month's survey responses
        ("rec-1", "act-1"),  # the complaint, and the action that came of it
        ("deg-1", "act-2"),  # the measure of act-2 and its source…
        ("rec-1", "act-1"),  # …and back from act-1's measure to the complaint
    ]


async def test_the_tracking_table_as_a_spreadsheet(api: Api) -> None:
    reply = await api.http.get(f"/v1/networks/{NETWORK}/tracking-table.xlsx", params=PERIOD)

    assert reply.status_code == 200
    assert reply.content[:2] == b"PK"


@pytest.mark.parametrize(("suffix", "other"), [("csv", "xlsx"), ("xlsx", "csv")])
async def test_a_tracking_table_reads_what_it_needs_and_builds_only_its_format(
    api: Api, monkeypatch: pytest.MonkeyPatch, suffix: str, other: str
) -> None:
    built: list[str] = []
    write_csv, new_workbook = tracking.rows_to_csv, vars(xlsx)["Workbook"]  # openpyxl's

    def csv_spy(*args: Any, **kwargs: Any) -> Any:
        built.append("csv")
        return write_csv(*args, **kwargs)

    def workbook_spy(*args: Any, **kwargs: Any) -> Any:
        built.append("xlsx")
        return new_workbook(*args, **kwargs)

    monkeypatch.setattr(tracking, "rows_to_csv", csv_spy)
    monkeypatch.setattr(xlsx, "Workbook", workbook_spy)  # any XLSX file starts there

    reply = await api.http.get(f"/v1/networks/{NETWORK}/tracking-table.{suffix}", params=PERIOD)

    assert reply.status_code == 200
    assert built == [suffix], f"the {other} was built too"
    assert sorted(set(api.read_model.read)) == [
        "actions",
        "analyses",
        "cases",
        "degradations",
        "meetings",
        "names",
    ]


async def test_the_tracking_table_served_is_the_one_in_the_dossier(api: Api) -> None:
    request = BuildRequest(network_id=NETWORK, start=date(2025, 1, 1), end=date(2026, 1, 1))
    pack = await build_pack(read_model=api.read_model, evidence=api.evidence, request=request)

    served_csv = await api.http.get(f"/v1/networks/{NETWORK}/tracking-table.csv", params=PERIOD)
    served_xlsx = await api.http.get(f"/v1/networks/{NETWORK}/tracking-table.xlsx", params=PERIOD)

    assert served_csv.content == pack.files["tableau-de-suivi.csv"]
    assert _cells(served_xlsx.content) == _cells(pack.files["tableau-de-suivi.xlsx"])
    assert len(_cells(served_xlsx.content)) > 30


def _cells(content: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


async def test_readiness_and_chain_verification(api: Api) -> None:
    gaps = (
        await api.http.get(f"/v1/networks/{NETWORK}/readiness", params=PERIOD | {"lang": "en"})
    ).json()
    verification = (await api.http.get(f"/v1/networks/{NETWORK}/evidence/verification")).json()

    assert sorted((g["indicator"], g["code"], g["site"], g["subject"]) for g in gaps) == sorted(
        GAPS
    )
    assert "Degradation with no action" in {g["message"] for g in gaps}
    assert verification["ok"] is True
    assert verification["entries"] == len(gap_events())


async def test_a_tampered_chain_is_reported_by_the_api(api: Api) -> None:
    chain = api.evidence.entries[NETWORK]
    chain[9] = dataclasses.replace(chain[9], body=(chain[9].body or "").replace("lyon", "nice", 1))

    verification = (await api.http.get(f"/v1/networks/{NETWORK}/evidence/verification")).json()

    assert (verification["ok"], verification["broken_at"]) == (False, 10)
