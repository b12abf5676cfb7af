"""Erasure requests from the privacy topic in the reporter: carried out, the request itself
erased with the rest, late events erased too, and the chain still verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequested, SubjectErasureRequestedV1
from boucle_reporter.adapters.memory import (
    InMemoryBuildStore,
    InMemoryEvidenceLog,
    InMemoryReadModel,
)
from boucle_reporter.builds import BuildService
from boucle_reporter.domain.ports import Build
from boucle_reporter.erase import subject_eraser
from boucle_reporter.handlers import EvidenceRecorder
from boucle_reporter.metrics import ReporterMetrics
from boucle_runtime.erasure import ErasureFollower, InMemoryErasedSubjects

pytestmark = pytest.mark.unit
EXAMPLE = example_of(ComplaintReceivedV1)
NETWORK = EXAMPLE.network_id
COMPLAINANT = "lrn-8842"  # the example's complainant is a company, not a person
COMPLAINT = EXAMPLE.model_copy(
    update={"data": EXAMPLE.data.model_copy(update={"complainant_ref": COMPLAINANT})}
)


class Reporter:
    def __init__(self) -> None:
        self.evidence, self.read_model = InMemoryEvidenceLog(), InMemoryReadModel()
        self.erased = InMemoryErasedSubjects()
        self.recorder = EvidenceRecorder(
            evidence=self.evidence,
            read_model=self.read_model,
            metrics=ReporterMetrics(CollectorRegistry()),
            erasure=ErasureFollower(
                erase=subject_eraser(self.evidence, self.read_model),
                erased=self.erased,
                service="reporter",
            ),
        )

    def stored(self) -> str:
        return json.dumps(
            [
                [e.body for e in self.evidence.entries[NETWORK]],
                list(self.evidence.subjects.values()),
                self.read_model.collections,
            ],
            default=str,
            ensure_ascii=False,
        )


def request(subject: str) -> SubjectErasureRequestedV1:
    return SubjectErasureRequestedV1.create(
        data=SubjectErasureRequested(
            request_id="era-7",
            subject_ref=subject,
            requested_at=COMPLAINT.time + timedelta(days=30),
        ),
        network_id=NETWORK,
        source="/collector/privacy/erasures",
        event_id="0193a6f0-0000-7000-8000-0000000e7a5e",
    )


async def test_a_request_on_the_topic_erases_the_subject_and_itself() -> None:
    reporter = Reporter()
    for event in EXAMPLES.values():
        if not isinstance(event, SubjectErasureRequestedV1 | ComplaintReceivedV1):
            await reporter.recorder.on_event(event)
    await reporter.recorder.on_event(COMPLAINT)
    assert COMPLAINANT in reporter.stored()
    assert COMPLAINT.data.description in reporter.stored()

    await reporter.recorder.on_event(request(COMPLAINANT))

    assert COMPLAINANT not in reporter.stored()
    assert COMPLAINT.data.description not in reporter.stored()
    last = reporter.evidence.entries[NETWORK][-1]
    assert last.event_id == "0193a6f0-0000-7000-8000-0000000e7a5e"
    assert last.body is None  # the request named the pseudonym: erased with the rest
    verification = await reporter.evidence.verify(network_id=NETWORK)
    assert verification.ok, verification.problem
    [receipt] = await reporter.erased.receipts(NETWORK)
    assert receipt.erased["evidence_entries"] == 2  # the complaint and the request
    assert receipt.erased["complaints_anonymised"] == 1


async def test_a_complaint_arriving_after_its_authors_erasure_is_erased_on_arrival() -> None:
    reporter = Reporter()
    await reporter.recorder.on_event(request(COMPLAINANT))

    await reporter.recorder.on_event(COMPLAINT)

    assert COMPLAINANT not in reporter.stored()
    assert COMPLAINT.data.description not in reporter.stored()
    assert (await reporter.evidence.verify(network_id=NETWORK)).ok


async def test_dossiers_built_before_an_erasure_are_deleted(tmp_path: Path) -> None:
    reporter = Reporter()
    await reporter.recorder.on_event(COMPLAINT)
    builds = BuildService(
        read_model=reporter.read_model,
        evidence=reporter.evidence,
        store=InMemoryBuildStore(),
        directory=tmp_path,
        metrics=ReporterMetrics(CollectorRegistry()),
    )
    built = Build(
        build_id="0" * 32,
        network_id=NETWORK,
        start="2025-01-01",
        end="2026-01-01",
        sites=[],
        language="fr",
        status="done",
        requested_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    await builds.store.save(built)
    builds.archive_path(built).write_bytes(b"PK journal with the complaint")
    erase = subject_eraser(reporter.evidence, reporter.read_model, builds)

    erased = await erase(NETWORK, COMPLAINANT, datetime(2026, 2, 1, tzinfo=UTC))

    assert erased["dossiers_deleted"] == 1
    assert not builds.archive_path(built).exists()
    stored = await builds.store.get(built.build_id)
    assert stored is not None
    assert stored.status == "erased"
    assert (await erase(NETWORK, "lrn-nobody", datetime(2026, 2, 2, tzinfo=UTC)))[
        "dossiers_deleted"
    ] == 0
