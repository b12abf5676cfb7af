"""JWT roles on the reporter: each caller sees their network, their sites, their period."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from bench.reporter.scenario import NETWORK, gap_events, replayed
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_reporter.access import principal_access
from boucle_reporter.adapters.memory import (
    InMemoryBuildStore,
)
from boucle_reporter.api import reports_router
from boucle_reporter.builds import BuildService
from boucle_reporter.metrics import ReporterMetrics
from boucle_runtime.auth import (
    AuthSettings,
    TokenVerifier,
    install_access_errors,
    principal_dependency,
)

pytestmark = pytest.mark.unit
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
TABLE = f"/v1/networks/{NETWORK}/tracking-table.csv"


def token(role: str, network: str = NETWORK, **claims: Any) -> dict[str, str]:
    payload = {
        "iss": "https://auth.boucle.local/",
        "aud": "boucle",
        "sub": f"user-{role}",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        "network_id": network,
        "role": role,
        **claims,
    }
    return {"authorization": f"Bearer {jwt.encode(payload, KEY, algorithm='RS256')}"}


# Minted when a test uses them, never at import: a long suite would outlive their expiry.
def lead() -> dict[str, str]:
    return token("quality_lead")


def paris_manager() -> dict[str, str]:
    return token("site_manager", site_ids=["paris"])


def auditor() -> dict[str, str]:
    return token("auditor", site_ids=["lyon"], period_start="2025-03-01", period_end="2025-04-30")


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    evidence, read_model = await replayed(gap_events())
    metrics = ReporterMetrics(CollectorRegistry())
    builds = BuildService(
        read_model=read_model,
        evidence=evidence,
        store=InMemoryBuildStore(),
        directory=tmp_path,
        metrics=metrics,
    )
    verifier = TokenVerifier(AuthSettings(auth_public_key=PUBLIC_PEM))
    app = FastAPI()
    app.include_router(
        reports_router(
            read_model=read_model,
            evidence=evidence,
            builds=builds,
            metrics=metrics,
            access=principal_access(principal_dependency(verifier)),
        )
    )
    install_access_errors(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reporter"
    ) as client:
        yield client
    await builds.stop()


def _rows(reply: httpx.Response) -> list[dict[str, str]]:
    assert reply.status_code == 200, reply.text
    return list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff")), delimiter=";"))


async def test_without_a_valid_token_nothing_is_served(http: httpx.AsyncClient) -> None:
    assert (await http.get(TABLE)).status_code == 401
    assert (await http.get(TABLE, headers={"authorization": "Bearer x.y.z"})).status_code == 401


async def test_the_quality_lead_sees_every_site(http: httpx.AsyncClient) -> None:
    assert {r["Site"] for r in _rows(await http.get(TABLE, headers=lead()))} == {"lyon", "paris"}


async def test_a_site_manager_sees_their_site_only(http: httpx.AsyncClient) -> None:
    assert {r["Site"] for r in _rows(await http.get(TABLE, headers=paris_manager()))} == {"paris"}
    other = await http.get(TABLE, params={"site_id": "lyon"}, headers=paris_manager())
    assert other.status_code == 403
    assert "lyon" in other.json()["detail"]


async def test_an_auditor_sees_their_sample_over_their_period(http: httpx.AsyncClient) -> None:
    rows = _rows(await http.get(TABLE, headers=auditor()))

    assert {r["Site"] for r in rows} == {"lyon"}
    assert {r["Date"][:7] for r in rows} == {"2025-03", "2025-04"}
    outside = await http.get(
        TABLE, params={"from": "2025-06-01", "to": "2025-07-01"}, headers=auditor()
    )
    assert outside.status_code == 403


async def test_an_auditor_build_is_cut_to_their_scope(http: httpx.AsyncClient) -> None:
    reply = await http.post(
        f"/v1/networks/{NETWORK}/builds",
        json={"from": "2025-01-01", "to": "2026-01-01"},
        headers=auditor(),
    )

    assert reply.status_code == 202, reply.text
    assert (reply.json()["sites"], reply.json()["period"]) == (
        ["lyon"],
        {"from": "2025-03-01", "to": "2025-05-01"},
    )
    build_url = f"/v1/networks/{NETWORK}/builds/{reply.json()['build_id']}"
    assert (await http.get(build_url, headers=auditor())).status_code == 200
    assert (await http.get(build_url, headers=paris_manager())).status_code == 404
    assert (await http.get(build_url, headers=lead())).status_code == 200


async def test_another_network_is_refused(http: httpx.AsyncClient) -> None:
    reply = await http.get(TABLE, headers=token("quality_lead", network="autre-reseau"))

    assert reply.status_code == 403
