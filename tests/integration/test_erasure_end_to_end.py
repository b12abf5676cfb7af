"""Erasure of one learner across the services, on the real broker and database.

The collector, the analyzer, actions and the reporter run in-process (their lifespans:
topics, indexes, consumers, loops). A learner answers a survey, complains and is enrolled,
through the collector's API; another learner answers too. The network's administration
key asks the collector to erase the first learner. Once each consuming service has its
receipt, every document of the four databases is scanned: neither the learner's pseudonym
nor what they wrote is left anywhere (the evidence log keeps the entries' hashes), the other
learner's data is, and the evidence chain still verifies. Then the learner's old response
and complaint are replayed on the topics (a late delivery, a replay): they leave nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from boucle_actions.app import create_app as actions_app
from boucle_actions.settings import ActionsSettings
from boucle_analyzer.app import create_app as analyzer_app
from boucle_analyzer.settings import AnalyzerSettings
from boucle_collector.app import create_app as collector_app
from boucle_collector.domain.integrations import hash_key
from boucle_collector.settings import CollectorSettings
from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmitted, SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceived, ComplaintReceivedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.training.v1 import EnrolmentRecordedV1
from boucle_reporter.adapters.mongo import MongoEvidenceLog
from boucle_reporter.app import create_app as reporter_app
from boucle_reporter.settings import ReporterSettings

pytestmark = pytest.mark.integration
NETWORK, SITE = "reseau-effacement", "lyon"
LEARNER, OTHER = "lrn-erase-8842", "lrn-keep-1234"
ADMIN_KEY = "key-erasure-admin-0123456789"
SAID = "Le module trois coupait sans arrêt, XQZ-MOT-DU-LEARNER"  # what the learner wrote
COMPLAINED = "Je réclame le remboursement, XQZ-RECLAMATION-DU-LEARNER"
TIMEOUT_SECONDS = 120.0
Document = dict[str, Any]


class Stack:
    """The four services, their settings, and a client of every database."""

    def __init__(self, root: Path, kafka: str, mongodb_uri: str, isolation: str) -> None:
        common: dict[str, Any] = {
            "kafka_bootstrap_servers": kafka,
            "mongodb_uri": mongodb_uri,
            "topic_prefix": f"{isolation}.",
            "topic_partitions": 2,
            "graceful_timeout_seconds": 10,
            "_env_file": None,
        }
        integrations = root / "integrations.json"
        integrations.write_text(
            json.dumps(
                {
                    "integrations": [
                        {
                            "id": "administration",
                            "platform": "api",
                            "network_id": NETWORK,
                            "sites": ["*"],
                            "api_keys": [{"id": "admin", "sha256": hash_key(ADMIN_KEY)}],
                            "manage_mappings": True,
                        }
                    ]
                }
            )
        )
        self.collector = CollectorSettings(
            **common,
            mongodb_database=f"collector_{isolation}",
            integrations_file=integrations,
            pseudonymisation_secret="an-integration-test-secret-32-bytes",
            name_detection="rules",
        )
        self.analyzer = AnalyzerSettings(
            **common,
            mongodb_database=f"analyzer_{isolation}",
            french_model="",
            snapshot_interval_seconds=1.0,
            detection_interval_seconds=3600,
        )
        self.actions = ActionsSettings(**common, mongodb_database=f"actions_{isolation}")
        self.reporter = ReporterSettings(
            **common, mongodb_database=f"reporter_{isolation}", builds_dir=root / "builds"
        )
        self.databases = [
            s.mongodb_database for s in (self.collector, self.analyzer, self.actions, self.reporter)
        ]
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri, tz_aware=True)

    def apps(self) -> list[FastAPI]:
        return [
            collector_app(self.collector),
            analyzer_app(self.analyzer),
            actions_app(self.actions),
            reporter_app(self.reporter),
        ]

    async def count(self, database: str, collection: str, query: Document) -> int:
        return await self.client[database][collection].count_documents(query)

    async def holding(self, text: str) -> list[str]:
        """``database.collection`` of every document holding ``text`` (for a failure's message)."""
        found: list[str] = []
        for name in self.databases:
            db = self.client[name]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find({}):
                    if text in json.dumps(doc, default=str, ensure_ascii=False):
                        found.append(f"{name}.{collection}: {str(doc)[:300]}")
        return found

    async def everything(self) -> str:
        """Every document of the four databases, as one text."""
        found: list[Document] = []
        for name in self.databases:
            db = self.client[name]
            for collection in await db.list_collection_names():
                found += [doc async for doc in db[collection].find({})]
        return json.dumps(found, default=str, ensure_ascii=False)


@pytest.fixture
async def stack(
    tmp_path: Path, kafka_bootstrap: str, mongodb_uri: str, isolation: str
) -> AsyncIterator[Stack]:
    stack = Stack(tmp_path, kafka_bootstrap, mongodb_uri, isolation)
    yield stack
    for name in stack.databases:
        await stack.client.drop_database(name)
    await stack.client.close()


async def until(what: str, probe: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await probe():
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def response(number: int, of: str, text: str) -> Document:
    data = example_of(SurveyResponseSubmittedV1).data.model_copy(
        update={
            "response_id": f"r-{number}",
            "respondent_ref": of,
            "anonymous": False,
            "comments": (Comment(comment_id="c", text=text),),
        }
    )
    return data.model_dump(mode="json")


def complaint(number: int, of: str, text: str) -> Document:
    data = example_of(ComplaintReceivedV1).data.model_copy(
        update={
            "complaint_id": f"rec-{number}",
            "complainant_ref": of,
            "subject": f"Réclamation XQZ-SUJET-{of}",
            "description": text,
        }
    )
    return data.model_dump(mode="json")


def enrolment(of: str) -> Document:
    data = example_of(EnrolmentRecordedV1).data.model_copy(
        update={"enrolment_id": "enr-1", "learner_ref": of}
    )
    return data.model_dump(mode="json")


async def replay(settings: CollectorSettings, events: list[AnyEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                settings.topic(event.TOPIC),
                event.to_json_bytes(),
                key=event.partition_key,
                headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
            )
    finally:
        await producer.stop()


async def test_erasing_a_learner_leaves_no_trace_and_the_chain_verifies(stack: Stack) -> None:
    async with AsyncExitStack() as running:
        apps = stack.apps()
        for app in apps:
            await running.enter_async_context(app.router.lifespan_context(app))
        collector = await running.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=apps[0]),
                base_url="http://collector",
                headers={"X-Api-Key": ADMIN_KEY},
            )
        )
        site = f"/v1/networks/{NETWORK}/sites/{SITE}"
        for path, body in (
            ("survey-responses", response(1, LEARNER, SAID)),
            ("complaints", complaint(1, LEARNER, COMPLAINED)),
            ("enrolments", enrolment(LEARNER)),
            ("survey-responses", response(2, OTHER, "Très bonne formation, XQZ-AUTRE")),
        ):
            reply = await collector.post(f"{site}/{path}", json=body)
            assert reply.status_code == 202, reply.text
        analyzer, actions, reporter = stack.databases[1:]

        async def taken_in() -> bool:
            return (
                await stack.count(analyzer, "comment_subjects", {"subject": LEARNER}) == 2
                and await stack.count(actions, "case_subjects", {"subject": LEARNER}) == 1
                and await stack.count(reporter, "evidence", {"subjects": LEARNER}) == 3
                and await stack.count(reporter, "evidence", {"subjects": OTHER}) == 1
                and await stack.count(reporter, "evidence", {"type": {"$regex": "case_opened"}})
                == 1
            )

        await until("every service holds the learner's data", taken_in)
        assert LEARNER in await stack.everything()
        assert "XQZ-RECLAMATION-DU-LEARNER" in await stack.everything()

        reply = await collector.post(
            f"/v1/networks/{NETWORK}/privacy/erasures", json={"subject_refs": [LEARNER]}
        )
        assert reply.status_code == 202, reply.text

        async def receipted() -> bool:
            done = {"erased_at": {"$ne": None}}
            return all(
                [await stack.count(db, "erased_subjects", done) == 1 for db in stack.databases[1:]]
            )

        await until("a receipt in each service", receipted)
        stored = await stack.everything()
        assert LEARNER not in stored, await stack.holding(LEARNER)
        assert "XQZ-MOT-DU-LEARNER" not in stored
        assert "XQZ-RECLAMATION-DU-LEARNER" not in stored, await stack.holding("XQZ-RECLAMATION")
        assert f"XQZ-SUJET-{LEARNER}" not in stored  # the case's summary, in actions and reporter
        assert OTHER in stored  # the other learner is untouched
        evidence = MongoEvidenceLog(stack.client, reporter)
        verification = await evidence.verify(network_id=NETWORK)
        assert verification.ok, verification.problem
        assert verification.erased >= 4  # response, complaint, enrolment, request (+ case)

        # A late delivery of their old response and complaint, then a newer fact of the
        # other learner on the same partitions: once that one is in, the late ones were
        # handled.
        before = datetime.now(UTC) - timedelta(days=1)
        old_response = SurveyResponseSubmittedV1.create(
            data=SurveyResponseSubmitted.model_validate(response(1, LEARNER, SAID)),
            network_id=NETWORK,
            site_id=SITE,
            source="/test/replay",
            event_id="late-response-1",
            time=before,
        )
        old_complaint = ComplaintReceivedV1.create(
            data=ComplaintReceived.model_validate(complaint(9, LEARNER, COMPLAINED)),
            network_id=NETWORK,
            site_id=SITE,
            source="/test/replay",
            event_id="late-complaint-9",
            time=before,
        )
        await replay(stack.collector, [old_response, old_complaint])
        for path, body in (
            ("survey-responses", response(3, OTHER, "Encore bien, XQZ-AUTRE-2")),
            ("complaints", complaint(3, OTHER, "Salle froide, XQZ-AUTRE-3")),
        ):
            reply = await collector.post(f"{site}/{path}", json=body)
            assert reply.status_code == 202, reply.text

        async def after_the_late_ones() -> bool:
            return (
                await stack.count(analyzer, "comment_subjects", {"subject": OTHER}) == 3
                and await stack.count(actions, "case_subjects", {"subject": OTHER}) == 1
                and await stack.count(reporter, "evidence", {"subjects": OTHER}) == 3
                and await stack.count(reporter, "evidence", {"type": {"$regex": "case_opened"}})
                == 3
            )

        await until("the other learner's newer facts, after the late ones", after_the_late_ones)
        stored = await stack.everything()
        assert LEARNER not in stored, await stack.holding(LEARNER)
        assert "XQZ-MOT-DU-LEARNER" not in stored, await stack.holding("XQZ-MOT-DU-LEARNER")
        assert "XQZ-RECLAMATION-DU-LEARNER" not in stored
        verification = await evidence.verify(network_id=NETWORK)
        assert verification.ok, verification.problem
