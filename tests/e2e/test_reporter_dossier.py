"""Facts posted to the collector end up in the reporter's dossier de preuves, verified.

collector → Kafka → analyzer (figures) and actions (a case for the complaint) → reporter
(evidence log, read model) → a build requested over HTTP → the zip, opened and checked.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.training.v1 import EnrolmentRecordedV1
from boucle_reporter.adapters.ed25519 import PublicKeys
from boucle_reporter.domain.signing import signature_problem
from tools.localstack import Stack

pytestmark = pytest.mark.e2e
T = TypeVar("T")
TIMEOUT_SECONDS = 60.0


async def _eventually(what: str, probe: Callable[[], Awaitable[T | None]], stack: Stack) -> T:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.5)
    pytest.fail(f"{what} not seen within {TIMEOUT_SECONDS}s\n{stack.diagnostics()}")


async def test_posted_facts_reach_a_verified_dossier_de_preuves(stack: Stack) -> None:
    facts: list[tuple[str, AnyEvent]] = [
        ("survey-responses", example_of(SurveyResponseSubmittedV1)),
        ("complaints", example_of(ComplaintReceivedV1)),
        ("enrolments", example_of(EnrolmentRecordedV1)),
    ]
    network, site = facts[0][1].network_id, facts[0][1].site_id
    complaint_id = example_of(ComplaintReceivedV1).data.complaint_id
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        for path, event in facts:
            reply = await http.post(
                f"/v1/networks/{network}/sites/{site}/{path}",
                content=event.data.model_dump_json(exclude_none=True),
                headers={"content-type": "application/json"},
            )
            assert reply.status_code == 202, reply.text

    token = stack.config.issuer.token(network_id=network)  # a quality lead of the network
    async with httpx.AsyncClient(
        base_url=stack["reporter"].url, timeout=30, headers={"authorization": f"Bearer {token}"}
    ) as http:

        async def tracked() -> list[dict[str, str]] | None:
            reply = await http.get(f"/v1/networks/{network}/tracking-table.csv")
            rows = list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff")), delimiter=";"))
            sources = {r["Source"] for r in rows}
            return rows if {"Analyse des appréciations", "Réclamation"} <= sources else None

        await _eventually("the analysis and the complaint case in the reporter", tracked, stack)

        requested = await http.post(
            f"/v1/networks/{network}/builds",
            json={"from": "2025-01-01", "to": "2026-01-01", "sites": [site]},
        )
        assert requested.status_code == 202, requested.text
        build_url = f"/v1/networks/{network}/builds/{requested.json()['build_id']}"

        async def finished() -> dict[str, Any] | None:
            state: dict[str, Any] = (await http.get(build_url)).json()
            assert state["status"] != "failed", state["error"]
            return state if state["status"] == "done" else None

        state = await _eventually("the build", finished, stack)
        download = await http.get(state["download"])
        verification = (await http.get(f"/v1/networks/{network}/evidence/verification")).json()
        public_keys = (await http.get(f"/v1/networks/{network}/evidence/public-keys")).json()

    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == state["sha256"]
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    manifest = json.loads(archive.read("manifest.json"))
    for name, described in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == described["sha256"]
    register = load_workbook(io.BytesIO(archive.read("registre-reclamations.xlsx"))).active
    assert [row[0] for row in register.iter_rows(min_row=2, values_only=True)] == [complaint_id]
    assert archive.read("bilan.pdf").startswith(b"%PDF-")
    # every fact, the analyzer's figures and the case opening are in the verified chain
    assert verification["ok"] is True
    assert verification["entries"] >= len(facts) + 2
    # the chain head in the dossier is signed by the reporter's key, published by the API,
    # and the offline verifier holds the chain to it
    journal = json.loads(archive.read("journal-preuves.json"))
    keys = PublicKeys.from_pem("".join(k["pem"] for k in public_keys["keys"]))
    assert public_keys["signing"] is True
    assert signature_problem(journal["signed_head"], keys) is None
    assert signature_problem(verification, keys) is None
    assert journal["signed_head"]["key_id"] == journal["public_key"]["key_id"]
    gaps = json.loads(archive.read("controle-preparation.json"))
    assert "evidence_unsigned" not in {g["code"] for g in gaps}
    await _offline_verification(stack, network, archive, public_keys["keys"][0]["pem"])
    # the dossier's own kit, with no database: the links the reporter read from MongoDB
    assert manifest["chain_verified"]["ok"] is True
    await _standalone_verification(archive, public_keys["keys"][0]["pem"])


async def _standalone_verification(archive: zipfile.ZipFile, public_pem: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        archive.extractall(folder / "dossier")
        (folder / "cle.pem").write_text(public_pem)
        command = [
            sys.executable,
            str(folder / "dossier" / "verification" / "verifier.py"),
            str(folder / "dossier"),
            "--cle-publique",
            str(folder / "cle.pem"),
        ]
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, check=False, timeout=60
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RÉSULTAT : journal de preuves intègre" in done.stdout


async def _offline_verification(
    stack: Stack, network: str, archive: zipfile.ZipFile, public_pem: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "journal-preuves.json").write_bytes(archive.read("journal-preuves.json"))
        (folder / "cle.pem").write_text(public_pem)
        environment = os.environ | {
            "BOUCLE_REPORTER_MONGODB_URI": stack.config.mongodb_uri,
            "BOUCLE_REPORTER_MONGODB_DATABASE": stack.config.database("reporter"),
        }
        command = [
            sys.executable,
            "-m",
            "boucle_reporter.verify",
            "--network",
            network,
            "--public-key",
            str(folder / "cle.pem"),
            "--head",
            str(folder / "journal-preuves.json"),
        ]
        done = await asyncio.to_thread(
            subprocess.run,
            command,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(check["ok"] for check in json.loads(done.stdout)["signed_heads"])
