"""The reporter's storage on a real wire-protocol server (FerretDB or MongoDB)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.reporter.scenario import GAPS, NETWORK, NOW, PERIOD, gap_events, response
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from boucle_contracts.actions.v1 import AnalysisMeetingRecordedV1
from boucle_contracts.common import RespondentRole
from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.referential.v1 import PersonNamedV1, SiteNamedV1
from boucle_contracts.registry import AnyEvent
from boucle_reporter.adapters.ed25519 import Ed25519Signer, generate_private_pem
from boucle_reporter.adapters.memory import InMemoryEvidenceLog, InMemoryReadModel
from boucle_reporter.adapters.mongo import MongoBuildStore, MongoEvidenceLog, MongoReadModel
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.chain import entry_id
from boucle_reporter.domain.ports import Build
from boucle_reporter.domain.readiness import readiness
from boucle_reporter.domain.signing import signed_head
from boucle_reporter.erase import apply_retention, erase_subject
from boucle_reporter.handlers import EvidenceRecorder
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.pack import load_pack

pytestmark = pytest.mark.integration
Document = dict[str, Any]


@dataclass
class Storage:
    client: AsyncMongoClient[Document]
    database: str
    evidence: MongoEvidenceLog
    read_model: MongoReadModel

    def recorder(self) -> EvidenceRecorder:
        return EvidenceRecorder(
            evidence=self.evidence,
            read_model=self.read_model,
            metrics=ReporterMetrics(CollectorRegistry()),
        )


@pytest.fixture(params=[True, False], ids=["compare-and-set", "by-id"])
async def storage(
    mongodb_uri: str, isolation: str, request: pytest.FixtureRequest
) -> AsyncIterator[Storage]:
    """Both forms of guarded read-model writes, on whichever server answers."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    database = f"reporter_{isolation}"
    evidence = MongoEvidenceLog(client, database)
    read_model = MongoReadModel(client, database, compare_and_set=request.param)
    await evidence.create_indexes()
    await read_model.create_indexes()
    yield Storage(client, database, evidence, read_model)
    await client.drop_database(database)
    await client.close()


async def test_verifying_while_the_log_grows_reports_an_intact_chain(storage: Storage) -> None:
    """Entries appended during a verification are neither walked nor taken for removed."""
    events = [response("lyon", 1, RespondentRole.LEARNER, n) for n in range(120)]
    for event in events[:40]:
        await storage.evidence.append(event=event)

    async def grow() -> None:
        for event in events[40:]:
            await storage.evidence.append(event=event)

    growing = asyncio.create_task(grow())
    results = []
    while not growing.done():
        results.append(await storage.evidence.verify(network_id=NETWORK))
    await growing
    results.append(await storage.evidence.verify(network_id=NETWORK))
    assert len(results) > 1  # at least one verification ran while the log grew
    assert all(r.ok for r in results), [r.report() for r in results if not r.ok]
    assert results[-1].entries == 120


async def test_a_redelivered_event_keeps_its_place_in_the_chain(storage: Storage) -> None:
    first, second = gap_events()[:2]

    assert await storage.evidence.append(event=first) == (1, True)
    assert await storage.evidence.append(event=second) == (2, True)
    assert await storage.evidence.append(event=first) == (1, False)
    assert (await storage.evidence.verify(network_id=NETWORK)).entries == 2


async def test_concurrent_appenders_build_one_unbroken_chain(storage: Storage) -> None:
    events = [response("lyon", 3, RespondentRole.LEARNER, n) for n in range(40)]
    work = events + events[:10]  # and ten redeliveries

    async def appender(mine: list[AnyEvent]) -> list[tuple[int, bool]]:
        return [await storage.evidence.append(event=e) for e in mine]

    # six concurrent appenders (more would only meet SQLite's write lock under FerretDB)
    batches = await asyncio.gather(*(appender(work[i::6]) for i in range(6)))
    results = [result for batch in batches for result in batch]

    recorded = sorted(seq for seq, new in results if new)
    assert recorded == list(range(1, 41))
    assert {seq for seq, new in results if not new} <= set(recorded)
    verification = await storage.evidence.verify(network_id=NETWORK)
    assert (verification.ok, verification.entries, verification.head.seq) == (True, 40, 40)


async def test_a_head_left_behind_by_a_crash_is_repaired(storage: Storage) -> None:
    first, second, third = gap_events()[:3]
    await storage.evidence.append(event=first)
    await storage.evidence.append(event=second)
    # a crash after the entry's insert, before the head moved: put the head back one entry
    heads = storage.client[storage.database]["evidence_heads"]
    entry = await storage.client[storage.database]["evidence"].find_one(
        {"_id": entry_id(NETWORK, 1)}
    )
    assert entry is not None
    await heads.update_one({"_id": NETWORK}, {"$set": {"seq": 1, "hash": entry["hash"]}})

    assert await storage.evidence.append(event=third) == (3, True)
    assert (await storage.evidence.verify(network_id=NETWORK)).ok


async def test_an_event_whose_receipt_was_lost_is_still_not_appended_twice(
    storage: Storage,
) -> None:
    first, second = gap_events()[:2]
    await storage.evidence.append(event=first)
    await storage.evidence.append(event=second)
    # a crash after the entry's insert, before its receipt was written
    await storage.client[storage.database]["evidence_receipts"].delete_many({})

    assert await storage.evidence.append(event=first) == (1, False)
    assert await storage.evidence.append(event=second) == (2, False)
    assert (await storage.evidence.verify(network_id=NETWORK)).entries == 2


async def test_an_entry_edited_in_the_database_is_detected(storage: Storage) -> None:
    recorder = storage.recorder()
    for event in gap_events()[:20]:
        await recorder.on_event(event)
    assert (await storage.evidence.verify(network_id=NETWORK)).ok
    entries = storage.client[storage.database]["evidence"]
    entry = await entries.find_one({"_id": entry_id(NETWORK, 7)})
    assert entry is not None
    forged = json.loads(entry["body"]) | {"source": "/forged"}

    await entries.update_one(
        {"_id": entry["_id"]},
        {"$set": {"body": json.dumps(forged, sort_keys=True, separators=(",", ":"))}},
    )

    verification = await storage.evidence.verify(network_id=NETWORK)
    assert (verification.ok, verification.broken_at, verification.entries) == (False, 7, 6)


async def test_the_verify_command_exits_non_zero_on_a_broken_chain(
    storage: Storage, mongodb_uri: str
) -> None:
    recorder = storage.recorder()
    for event in gap_events()[:5]:
        await recorder.on_event(event)
    environment = os.environ | {
        "BOUCLE_REPORTER_MONGODB_URI": mongodb_uri,
        "BOUCLE_REPORTER_MONGODB_DATABASE": storage.database,
    }

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "boucle_reporter.verify", "--network", NETWORK],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    intact = await asyncio.to_thread(verify)
    await storage.client[storage.database]["evidence"].delete_one({"_id": entry_id(NETWORK, 3)})
    broken = await asyncio.to_thread(verify)

    assert intact.returncode == 0, intact.stderr
    assert json.loads(intact.stdout)["entries"] == 5
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["broken_at"] == 4


async def test_the_read_model_matches_the_in_memory_one_even_after_redelivery(
    storage: Storage,
) -> None:
    recorder = storage.recorder()
    for event in gap_events() + gap_events()[::3]:
        await recorder.on_event(event)
    memory = InMemoryReadModel()
    memory_recorder = EvidenceRecorder(
        evidence=InMemoryEvidenceLog(),
        read_model=memory,
        metrics=ReporterMetrics(CollectorRegistry()),
    )
    for event in gap_events():
        await memory_recorder.on_event(event)
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1])

    stored = await load_pack(storage.read_model, request, NOW)
    expected = await load_pack(memory, request, NOW)

    assert sorted(stored.site_months, key=repr) == sorted(expected.site_months, key=repr)
    assert sorted(stored.analyses, key=repr) == sorted(expected.analyses, key=repr)
    assert stored.actions == expected.actions
    assert stored.cases == expected.cases
    assert sorted((f.indicator, f.code, f.site, f.subject) for f in readiness(stored)) == sorted(
        GAPS
    )


async def test_builds_are_persisted(storage: Storage) -> None:
    store = MongoBuildStore(storage.client, storage.database)
    await store.create_indexes()
    build = Build(
        build_id="b" * 32,
        network_id=NETWORK,
        start="2025-01-01",
        end="2026-01-01",
        sites=["lyon"],
        language="fr",
        status="queued",
        requested_at=NOW,
    )

    await store.save(build)
    build.status, build.files = "done", {"bilan.pdf": {"sha256": "0" * 64, "bytes": 3}}
    await store.save(build)

    assert await store.get(build.build_id) == build
    assert await store.recent(network_id=NETWORK) == [build]
    assert await store.unfinished() == []


async def test_the_cli_builds_a_dossier_from_the_read_model(
    storage: Storage, mongodb_uri: str, tmp_path: Path
) -> None:
    recorder = storage.recorder()
    for event in gap_events():
        await recorder.on_event(event)
    out = tmp_path / "dossier.zip"
    command = [
        sys.executable,
        "-m",
        "boucle_reporter.cli",
        "build",
        "--network",
        NETWORK,
        "--from",
        "2025-01-01",
        "--to",
        "2026-01-01",
        "--site",
        "paris",
        "--out",
        str(out),
    ]
    environment = os.environ | {
        "BOUCLE_REPORTER_MONGODB_URI": mongodb_uri,
        "BOUCLE_REPORTER_MONGODB_DATABASE": storage.database,
        "BOUCLE_REPORTER_EVIDENCE_SIGNING_KEY": generate_private_pem(),  # heads signed
    }

    done = await asyncio.to_thread(
        subprocess.run, command, env=environment, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert "Dossier de preuves" in done.stderr  # the progress bar
    archive = zipfile.ZipFile(out)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["sites"] == ["paris"]
    assert manifest["findings"] == len(GAPS)
    assert "lyon" not in archive.read("tableau-de-suivi.csv").decode()


# --- erasure, retention and signed heads on the real server ---------------------------------

EXAMPLE_NETWORK = "reseau-horizon"  # the network of every contract example
LEARNER = "lrn-7f3a9c"  # enrolled (example), and answering a survey (below)
ERASED_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _subject_events() -> list[AnyEvent]:
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


async def _everything_stored(storage: Storage) -> str:
    """Every document of every collection of the reporter's database, as text."""
    db = storage.client[storage.database]
    documents = [doc for name in await db.list_collection_names() async for doc in db[name].find()]
    return json.dumps(documents, default=str)


async def test_an_erased_subject_appears_nowhere_and_the_chain_still_verifies(
    storage: Storage,
) -> None:
    recorder = storage.recorder()
    for event in _subject_events():
        await recorder.on_event(event)
    assert LEARNER in await _everything_stored(storage)

    report = await erase_subject(
        storage.evidence,
        storage.read_model,
        network_id=EXAMPLE_NETWORK,
        subject=LEARNER,
        now=ERASED_AT,
    )
    redelivered = await storage.evidence.append(event=_subject_events()[-1])

    assert report["entries_erased"] == 2
    assert redelivered[1] is False  # a redelivery finds its receipt, not a new body
    assert LEARNER not in await _everything_stored(storage)
    verification = await storage.evidence.verify(network_id=EXAMPLE_NETWORK)
    assert verification.ok, verification.problem
    assert (verification.entries, verification.erased) == (len(_subject_events()), 2)
    erasures = await storage.evidence.erasures(network_id=EXAMPLE_NETWORK)
    assert [(e.day, e.reason, e.entries) for e in erasures] == [
        ("2026-12-02", "subject_request", 2)
    ]


async def test_retention_erases_old_bodies_on_the_real_server(storage: Storage) -> None:
    recorder = storage.recorder()
    for event in _subject_events():
        await recorder.on_event(event)
    days = {"responses": 365, "training": 365, "complaints": None, "evidence": None}

    erased, more = await apply_retention(storage.evidence, days, now=ERASED_AT)

    assert (erased, more) == ({"responses": 2, "training": 3}, False)
    verification = await storage.evidence.verify(network_id=EXAMPLE_NETWORK)
    assert (verification.ok, verification.erased) == (True, 5)
    entries = storage.client[storage.database]["evidence"]
    kept = await entries.count_documents({"body": {"$ne": None}})
    assert kept == len(_subject_events()) - 5


async def test_the_verify_command_finds_a_rewritten_tail_and_a_forged_head(
    storage: Storage, mongodb_uri: str, tmp_path: Path
) -> None:
    recorder = storage.recorder()
    for event in gap_events()[:6]:
        await recorder.on_event(event)
    signer = Ed25519Signer(generate_private_pem())
    head = await storage.evidence.head(network_id=NETWORK)
    signed = signed_head(NETWORK, head, signer, ERASED_AT)
    (tmp_path / "journal-preuves.json").write_text(json.dumps({"signed_head": signed}))
    (tmp_path / "forged.json").write_text(json.dumps(signed | {"seq": 2}))
    (tmp_path / "cle.pem").write_text(signer.public_pem)
    environment = os.environ | {
        "BOUCLE_REPORTER_MONGODB_URI": mongodb_uri,
        "BOUCLE_REPORTER_MONGODB_DATABASE": storage.database,
    }

    def verify(head_file: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "boucle_reporter.verify",
            "--network",
            NETWORK,
            "--public-key",
            str(tmp_path / "cle.pem"),
            "--head",
            str(tmp_path / head_file),
        ]
        return subprocess.run(
            command, env=environment, capture_output=True, text=True, check=False, timeout=60
        )

    intact = await asyncio.to_thread(verify, "journal-preuves.json")
    forged = await asyncio.to_thread(verify, "forged.json")
    # the tail rewritten together with the database's head: the chain alone still verifies
    db = storage.client[storage.database]
    await db["evidence"].delete_many({"_id": {"$in": [entry_id(NETWORK, 5), entry_id(NETWORK, 6)]}})
    last = await db["evidence"].find_one({"_id": entry_id(NETWORK, 4)})
    assert last is not None
    await db["evidence_heads"].update_one(
        {"_id": NETWORK}, {"$set": {"seq": 4, "hash": last["hash"]}}
    )
    alone = await storage.evidence.verify(network_id=NETWORK)
    rewritten = await asyncio.to_thread(verify, "journal-preuves.json")

    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert json.loads(intact.stdout)["signed_heads"][0]["ok"] is True
    assert forged.returncode == 1
    assert "forged" in json.loads(forged.stdout)["signed_heads"][0]["problem"]
    assert alone.ok
    assert rewritten.returncode == 1
    report = json.loads(rewritten.stdout)
    assert (report["ok"], report["broken_at"]) == (False, 6)
    assert "tail rewritten" in report["problem"]


async def test_names_and_meetings_reach_the_tracking_table_from_the_database(
    storage: Storage,
) -> None:
    """The referential's latest names win (a redelivered older name does not come back);
    a build for one site still reads them, and the network's meetings."""
    site = example_of(SiteNamedV1)
    renamed = site.model_copy(
        update={
            "id": "0193a6f0-0000-7000-8000-00000000feed",
            "data": site.data.model_copy(update={"name": "Lyon 3e — Part-Dieu"}),
        }
    )
    recorder = storage.recorder()
    for event in (site, example_of(PersonNamedV1), example_of(AnalysisMeetingRecordedV1)):
        await recorder.on_event(event)
    await recorder.on_event(renamed)
    await recorder.on_event(site)  # redelivered: its first sequence number, older

    meeting = example_of(AnalysisMeetingRecordedV1).data
    request = BuildRequest(
        network_id=EXAMPLE_NETWORK,
        start=meeting.held_at.date().replace(day=1),
        end=meeting.held_at.date().replace(day=28) + timedelta(days=7),
        sites=(site.data.site_id,),
    )
    data = await load_pack(storage.read_model, request, NOW.replace(year=2030))

    assert data.names.site(site.data.site_id) == "Lyon 3e — Part-Dieu"
    person = example_of(PersonNamedV1).data
    assert data.names.person(person.person_id).startswith(person.name)
    assert [m.meeting_id for m in data.meetings] == [meeting.meeting_id]
