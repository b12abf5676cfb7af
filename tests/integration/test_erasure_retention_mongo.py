"""Retention on the real database: the analyzer's old comment records and actions' old
closed cases, through the queries FerretDB must answer (dates, $ne null, $exists)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from boucle_actions.adapters.mongo_erasure import MongoCaseSubjects, MongoCaseTexts
from boucle_actions.erasure import ERASED, CaseSubject
from boucle_actions.erasure import apply_retention as case_retention
from boucle_analyzer.adapters.mongo_comments import MongoCommentStore
from boucle_analyzer.adapters.mongo_erasure import MongoCommentEraser, MongoSubjectIndex
from boucle_analyzer.domain.ports import CommentRecord
from boucle_analyzer.erasure import SubjectEntry
from boucle_analyzer.erasure import apply_retention as comment_retention

pytestmark = pytest.mark.integration
NETWORK = "reseau-retention"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=400), NOW - timedelta(days=30)
Document = dict[str, Any]


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def database(client: AsyncMongoClient[Document], isolation: str) -> AsyncIterator[str]:
    yield f"retention_{isolation}"
    await client.drop_database(f"retention_{isolation}")


def record(comment_id: str, source: str, at: datetime) -> CommentRecord:
    return CommentRecord(
        comment_id=comment_id,
        network_id=NETWORK,
        scope_keys=("network",),
        at=at,
        source=source,
        themes=(),
        negative=True,
        stems=("plateform",),
        event_id=f"e-{comment_id}",
    )


async def test_old_comment_records_go_with_their_index_entries(
    client: AsyncMongoClient[Document], database: str
) -> None:
    comments = MongoCommentStore(client, database)
    subjects, eraser = MongoSubjectIndex(client, database), MongoCommentEraser(client, database)
    await subjects.create_indexes()
    await comments.keep(
        records=[
            record("r-old:c", "survey", OLD),
            record("r-new:c", "survey", RECENT),
            record("rec-old", "complaint", OLD),
        ]
    )
    for comment_id, source, at in (("r-old:c", "survey", OLD), ("rec-old", "complaint", OLD)):
        await subjects.remember(
            SubjectEntry(NETWORK, "lrn-1", f"e-{comment_id}", (comment_id,), at, source)
        )

    erased = await comment_retention(
        subjects, eraser, responses_days=365, complaints_days=1825, now=NOW
    )

    assert erased == {"survey": 1, "complaint": 0}
    left = {doc["comment_id"] async for doc in client[database]["comments"].find({})}
    assert left == {"r-new:c", "rec-old"}
    assert await subjects.comment_ids(network_id=NETWORK, subject="lrn-1") == ["rec-old"]


async def test_old_closed_cases_lose_their_words_once(
    client: AsyncMongoClient[Document], database: str
) -> None:
    cases = client[database]["cases"]
    history = [{"at": OLD, "actor": "usr", "from_status": None, "to_status": "received"}]
    base = {"network_id": NETWORK, "summary": "Mme Dupont se plaint", "history": history}
    await cases.insert_many(
        [
            {"_id": "case-old", **base, "closed_at": OLD, "answer": "Réponse", "revision": 4},
            {"_id": "case-recent", **base, "closed_at": RECENT, "revision": 4},
            {"_id": "case-open", **base, "closed_at": None, "revision": 1},
        ]
    )
    subjects, texts = MongoCaseSubjects(client, database), MongoCaseTexts(client, database)
    await subjects.remember(CaseSubject(NETWORK, "lrn-1", "case-old", OLD))
    await subjects.remember(CaseSubject(NETWORK, "lrn-1", "case-open", OLD))

    assert await case_retention(subjects, texts, complaints_days=365, now=NOW) == 1
    assert await case_retention(subjects, texts, complaints_days=365, now=NOW) == 0

    old = await cases.find_one({"_id": "case-old"})
    assert old is not None
    assert (old["summary"], old["answer"], old["revision"]) == (ERASED, ERASED, 5)
    assert old["closed_at"] == OLD
    for kept in ("case-recent", "case-open"):
        found = await cases.find_one({"_id": kept})
        assert found is not None
        assert found["summary"] == "Mme Dupont se plaint"
    assert await subjects.case_ids(network_id=NETWORK, subject="lrn-1") == ["case-open"]
