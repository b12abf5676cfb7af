"""Erasure and retention of evidence bodies: the chain still verifies, the person is gone."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.registry import AnyEvent
from boucle_reporter.access import no_admin, open_access, open_admin, principal_admin
from boucle_reporter.adapters.ed25519 import (
    Ed25519Signer,
    PublicKeys,
    SigningKeyError,
    generate_private_pem,
)
from boucle_reporter.adapters.memory import (
    InMemoryBuildStore,
    InMemoryEvidenceLog,
    InMemoryReadModel,
)
from boucle_reporter.api import reports_router
from boucle_reporter.builds import BuildService
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.retention import family_of
from boucle_reporter.domain.signing import signature_problem
from boucle_reporter.erase import SubjectEraser, apply_retention, erase_subject
from boucle_reporter.evidence_api import evidence_router
from boucle_reporter.handlers import EvidenceRecorder
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.pack import EvidenceKey, build_pack
from boucle_reporter.settings import ReporterSettings
from boucle_reporter.signing import KeyRing, key_ring, signer_from
from boucle_runtime.auth import Principal, Role, install_access_errors

pytestmark = pytest.mark.unit
NETWORK = "reseau-horizon"  # the network of every contract example
LEARNER = "lrn-7f3a9c"  # enrolled (example), and answering a survey (below)
COMPLAINANT = "ent-batiplus-rhone"  # the complaint example's
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _events() -> list[AnyEvent]:
    """Every contract example, and the learner's own survey response."""
    response = example_of(SurveyResponseSubmittedV1)
    named = response.model_copy(
        update={
            "id": "0193a6f0-0000-7000-8000-00000000beef",
            "data": response.data.model_copy(
                update={"respondent_ref": LEARNER, "anonymous": False, "response_id": "r-own"}
            ),
        }
    )
    return [*EXAMPLES.values(), named]


async def _replayed(
    signer: Ed25519Signer | None = None,
) -> tuple[InMemoryEvidenceLog, InMemoryReadModel]:
    evidence, read_model = InMemoryEvidenceLog(signer=signer), InMemoryReadModel()
    recorder = EvidenceRecorder(
        evidence=evidence, read_model=read_model, metrics=ReporterMetrics(CollectorRegistry())
    )
    for event in _events():
        await recorder.on_event(event)
    return evidence, read_model


def _stored_text(evidence: InMemoryEvidenceLog, read_model: InMemoryReadModel) -> str:
    """Everything the reporter keeps about the network, as text (entries, index, read model)."""
    return json.dumps(
        [
            [e.body for e in evidence.entries[NETWORK]],
            list(evidence.subjects.values()),
            read_model.collections,
        ],
        default=str,
    )


def test_the_subjects_of_an_event_are_indexed_at_append_time() -> None:
    assert family_of("fr.boucle.feedback.survey_response_submitted.v1") == "responses"
    assert family_of("fr.boucle.cases.complaint_case_opened.v1") == "complaints"
    assert family_of("fr.boucle.training.dropout_recorded.v1") == "training"
    assert family_of("fr.boucle.signals.degradation_detected.v1") == "evidence"


async def test_erasing_a_subject_nulls_their_bodies_and_the_chain_still_verifies() -> None:
    evidence, read_model = await _replayed()
    assert LEARNER in _stored_text(evidence, read_model)
    assert sum(LEARNER in s for s in evidence.subjects.values()) == 2

    report = await erase_subject(evidence, read_model, network_id=NETWORK, subject=LEARNER, now=NOW)

    assert report["entries_erased"] == 2  # the enrolment and the response
    assert LEARNER not in _stored_text(evidence, read_model)
    assert LEARNER not in json.dumps(report)
    verification = await evidence.verify(network_id=NETWORK)
    assert verification.ok, verification.problem
    assert (verification.entries, verification.erased) == (len(_events()), 2)
    others = [e for e in evidence.entries[NETWORK] if e.body is not None]
    assert len(others) == len(_events()) - 2  # nobody else's evidence is touched


async def test_erasing_a_complainant_anonymises_their_register_row_and_case() -> None:
    evidence, read_model = await _replayed()

    report = await erase_subject(
        evidence, read_model, network_id=NETWORK, subject=COMPLAINANT, now=NOW
    )

    complaint = next(iter(read_model.collections["complaints"].values()))
    case = next(iter(read_model.collections["cases"].values()))
    assert (report["entries_erased"], report["complaints_anonymised"]) == (1, 1)
    assert (complaint["subject"], complaint["channel"]) == ("", "email")
    assert (case["summary"], case["answer"]) == ("", "")
    assert case["status"]  # dates, status and counts stay
    assert (await evidence.verify(network_id=NETWORK)).ok


async def test_retention_erases_bodies_older_than_their_family_period() -> None:
    evidence, _ = await _replayed()
    days = {"responses": 365, "complaints": None, "training": 10_000, "evidence": None}

    erased, more = await apply_retention(evidence, days, now=NOW)
    again, _ = await apply_retention(evidence, days, now=NOW)

    assert erased == {"responses": 2, "training": 0}
    assert (more, again) == (False, {"responses": 0, "training": 0})
    kept = {e.event_type for e in evidence.entries[NETWORK] if e.body is not None}
    assert not any(".feedback." in t for t in kept)
    assert any(".incidents." in t for t in kept)
    verification = await evidence.verify(network_id=NETWORK)
    assert (verification.ok, verification.erased) == (True, 2)
    assert [(e.reason, e.entries) for e in await evidence.erasures(network_id=NETWORK)] == [
        ("retention:responses", 2)
    ]


async def test_retention_runs_in_batches_and_says_more_is_waiting() -> None:
    evidence, _ = await _replayed()
    days = {"evidence": 1}

    first, more = await apply_retention(evidence, days, now=NOW, limit=3)
    rest, still = await apply_retention(evidence, days, now=NOW, limit=100)

    assert (first, more) == ({"evidence": 3}, True)
    assert still is False
    assert rest["evidence"] > 0
    assert (await evidence.verify(network_id=NETWORK)).ok


async def test_the_dossier_reports_erased_content_and_a_signed_head() -> None:
    signer = Ed25519Signer(generate_private_pem())
    evidence, read_model = await _replayed(signer)
    await erase_subject(evidence, read_model, network_id=NETWORK, subject=LEARNER, now=NOW)
    await evidence.verify(network_id=NETWORK)
    request = BuildRequest(network_id=NETWORK, start=date(2025, 1, 1), end=date(2026, 1, 1))

    pack = await build_pack(
        read_model=read_model,
        evidence=evidence,
        request=request,
        now=NOW,
        key=EvidenceKey(signer, signer.public_pem),
    )

    archive = zipfile.ZipFile(io.BytesIO(pack.archive()))
    journal = json.loads(archive.read("journal-preuves.json"))
    index = archive.read("index-des-preuves.html").decode()
    keys = PublicKeys.from_pem(journal["public_key"]["pem"])
    assert journal["erased_entries"] == 2
    assert journal["erasures"] == [{"day": "2026-12-02", "reason": "subject_request", "entries": 2}]
    assert "Contenu effacé (RGPD) le 02/12/2026" in index  # dates for the locale (Babel)
    assert json.loads(archive.read("manifest.json"))["erased_entries"] == 2
    assert "evidence_unsigned" not in {g.code for g in pack.gaps}  # erasure is not a gap
    head = journal["signed_head"]
    assert (head["seq"], head["key_id"]) == (len(_events()), signer.key_id)
    assert signature_problem(head, keys) is None
    assert signature_problem(journal["last_verification"], keys) is None
    assert journal["last_verification"]["erased"] == 2
    assert 'id="chain-signature" class="ok"' in index


async def test_without_a_key_the_dossier_says_its_head_is_unsigned_as_a_gap() -> None:
    evidence, read_model = await _replayed()
    request = BuildRequest(network_id=NETWORK, start=date(2025, 1, 1), end=date(2026, 1, 1))

    pack = await build_pack(read_model=read_model, evidence=evidence, request=request, now=NOW)

    journal = json.loads(pack.files["journal-preuves.json"])
    assert journal["signed_head"]["signature"] is None
    assert "not signed" in journal["signed_head"]["unsigned"]
    assert journal["public_key"] is None
    assert ("evidence_unsigned", NETWORK) in {(g.code, g.subject) for g in pack.gaps}
    assert "Têtes de chaîne non signées" in pack.files["controle-preparation.json"].decode()


def test_the_signing_key_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    pem = generate_private_pem()
    (tmp_path / "key.pem").write_text(pem)
    retired = Ed25519Signer(generate_private_pem())
    (tmp_path / "old.pem").write_text(retired.public_pem + Ed25519Signer(pem).public_pem)

    from_env = ReporterSettings(evidence_signing_key=pem)
    from_file = ReporterSettings(
        evidence_signing_key_file=tmp_path / "key.pem",
        evidence_previous_public_keys_file=tmp_path / "old.pem",
    )

    assert signer_from(ReporterSettings(evidence_signing_key="")) is None
    signer = signer_from(from_env)
    assert signer is not None
    ring = key_ring(from_file)
    assert ring.signer is not None
    assert ring.signer.key_id == signer.key_id
    assert set(ring.public.keys) == {signer.key_id, retired.key_id}


@pytest.fixture
async def http() -> AsyncIterator[tuple[httpx.AsyncClient, InMemoryEvidenceLog]]:
    signer = Ed25519Signer(generate_private_pem())
    evidence, read_model = await _replayed(signer)
    app = FastAPI()
    app.include_router(
        evidence_router(
            access=open_access,
            admin=open_admin,
            keys=KeyRing(signer, PublicKeys([signer.public_key])),
            eraser=SubjectEraser(evidence, read_model),
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporter") as client:
        yield client, evidence


async def test_the_api_publishes_the_public_keys_and_erases_a_subject(
    http: tuple[httpx.AsyncClient, InMemoryEvidenceLog],
) -> None:
    client, evidence = http

    keys = (await client.get(f"/v1/networks/{NETWORK}/evidence/public-keys")).json()
    erased = await client.post(
        f"/v1/networks/{NETWORK}/evidence/erasures", json={"subject": LEARNER}
    )

    assert keys["signing"] is True
    assert [k["current"] for k in keys["keys"]] == [True]
    assert evidence.signer is not None
    assert keys["keys"][0]["key_id"] == evidence.signer.key_id
    assert erased.status_code == 200, erased.text
    assert erased.json()["entries_erased"] == 2
    assert LEARNER not in erased.text


@pytest.mark.parametrize(
    ("role", "network", "status"),
    [
        (Role.QUALITY_LEAD, NETWORK, 200),
        (Role.AUDITOR, NETWORK, 403),
        (Role.SITE_MANAGER, NETWORK, 403),
        (Role.QUALITY_LEAD, "autre-reseau", 403),
        (None, NETWORK, 403),
    ],
)
async def test_only_the_networks_quality_lead_erases(
    role: Role | None, network: str, status: int
) -> None:
    evidence, read_model = await _replayed()

    async def principal() -> Principal:
        return Principal(subject="u", network_id=network, role=role or Role.QUALITY_LEAD)

    app = FastAPI()
    install_access_errors(app)
    app.include_router(
        evidence_router(
            access=open_access,
            admin=principal_admin(principal) if role else no_admin,
            keys=KeyRing(),
            eraser=SubjectEraser(evidence, read_model),
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reporter"
    ) as client:
        reply = await client.post(
            f"/v1/networks/{NETWORK}/evidence/erasures", json={"subject": LEARNER}
        )

    assert reply.status_code == status, reply.text
    bodies = [e.body for e in evidence.entries[NETWORK]]
    assert (None in bodies) is (status == 200)


async def test_without_a_key_the_api_says_heads_are_unsigned_and_readiness_flags_it(
    tmp_path: Path,
) -> None:
    evidence, read_model = await _replayed()
    metrics = ReporterMetrics(CollectorRegistry())
    builds = BuildService(
        read_model=read_model,
        evidence=evidence,
        store=InMemoryBuildStore(),
        directory=tmp_path,
        metrics=metrics,
    )
    app = FastAPI()
    app.include_router(
        reports_router(
            read_model=read_model,
            evidence=evidence,
            builds=builds,
            metrics=metrics,
            access=open_access,
        )
    )
    app.include_router(
        evidence_router(
            access=open_access,
            admin=no_admin,
            keys=KeyRing(),
            eraser=SubjectEraser(evidence, read_model),
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reporter"
    ) as client:
        keys = (await client.get(f"/v1/networks/{NETWORK}/evidence/public-keys")).json()
        gaps = (await client.get(f"/v1/networks/{NETWORK}/readiness")).json()
        verification = (await client.get(f"/v1/networks/{NETWORK}/evidence/verification")).json()

    assert keys == {"signing": False, "keys": []}
    assert {"indicator": 32, "code": "evidence_unsigned"}.items() <= next(
        g for g in gaps if g["code"] == "evidence_unsigned"
    ).items()
    assert verification["ok"] is True
    assert "signature" not in verification


def test_a_configured_key_that_is_not_ed25519_stops_the_service() -> None:
    with pytest.raises(SigningKeyError, match="not a PEM private key"):
        signer_from(ReporterSettings(evidence_signing_key="not a key"))
