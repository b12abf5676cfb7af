"""A drop at one site, on the real broker and database: one problem, one draft action.

The analyzer and actions apps run in-process (their lifespans: topics, indexes, consumers,
background loops). Survey responses of two sites over six past weeks are published, the
last two bad at Lyon on overall satisfaction and the platform (the last one shows the
data has passed the first bad week, which detection then evaluates). The drop shows on
both dimensions at the site, and may show at its programme, its trainer (who works there
only) and the network. The analyzer must open exactly one problem, attributed to Lyon,
and the actions service draft exactly one action for it (none per degradation).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from boucle_actions.app import create_app as create_actions
from boucle_actions.domain.problem_drafts import problem_action_id
from boucle_actions.settings import ActionsSettings
from boucle_analyzer.app import create_app as create_analyzer
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts import kafka as wire
from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    Comment,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.problems.v1 import TOPIC as PROBLEMS_TOPIC
from boucle_contracts.problems.v1 import ProblemOpenedV1
from boucle_contracts.registry import decode_event
from boucle_contracts.scope import ScopeLevel

pytestmark = pytest.mark.integration
NETWORK = "reseau-problemes"
START = datetime(2025, 3, 3, 8, tzinfo=UTC)  # a Monday, long past: every week is complete
WEEK = timedelta(days=7)
GOOD = [5] * 8 + [4] * 8 + [3] * 3 + [2]  # 20 ratings a week, mean 4.15
BAD = [4] * 3 + [3] * 6 + [2] * 12 + [1] * 9  # 30 ratings, mean 2.1
TIMEOUT_SECONDS = 240.0


def _responses() -> list[SurveyResponseSubmittedV1]:
    events = []
    for week in range(6):
        for site in ("lyon", "paris"):
            bad = site == "lyon" and week >= 4
            for number, rating in enumerate(BAD if bad else GOOD):
                at = START + week * WEEK + timedelta(hours=5 * number)  # over the week
                comments = (
                    (Comment(comment_id="q-avis", text="La plateforme coupe sans arrêt"),)
                    if rating <= 2
                    else ()
                )
                events.append(
                    SurveyResponseSubmittedV1.create(
                        data=SurveyResponseSubmitted(
                            response_id=f"r-{site}-{week}-{number}",
                            survey_id="s",
                            survey_kind=SurveyKind.HOT,
                            respondent_role=RespondentRole.LEARNER,
                            submitted_at=at,
                            channel="api",
                            training=TrainingRef(
                                programme_id="prog-1", trainer_ids=(f"fmt-{site}",)
                            ),
                            answers=(
                                ScaleAnswer(type="scale", question_id="q1", value=rating),
                                ScaleAnswer(
                                    type="scale",
                                    question_id="q2",
                                    dimension="platform",
                                    value=rating,
                                ),
                            ),
                            comments=comments,
                        ),
                        network_id=NETWORK,
                        site_id=site,
                        source="/test",
                        event_id=f"evt-{site}-{week}-{number}",
                        time=at,
                    )
                )
    return events


@pytest.fixture
def analyzer_settings(kafka_bootstrap: str, mongodb_uri: str, isolation: str) -> AnalyzerSettings:
    return AnalyzerSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        mongodb_database=f"analyzer_{isolation}",
        topic_prefix=f"{isolation}.",
        topic_partitions=2,
        snapshot_interval_seconds=0.5,
        detection_interval_seconds=1,
        graceful_timeout_seconds=10,
    )


@pytest.fixture
def actions_settings(kafka_bootstrap: str, mongodb_uri: str, isolation: str) -> ActionsSettings:
    return ActionsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        mongodb_database=f"actions_{isolation}",
        topic_prefix=f"{isolation}.",
        topic_partitions=2,
        sweep_interval_seconds=1,
        graceful_timeout_seconds=10,
    )


@pytest.fixture
async def mongo(
    analyzer_settings: AnalyzerSettings, actions_settings: ActionsSettings
) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        analyzer_settings.mongodb_uri, tz_aware=True
    )
    yield client
    await client.drop_database(analyzer_settings.mongodb_database)
    await client.drop_database(actions_settings.mongodb_database)
    await client.close()


async def _publish(settings: AnalyzerSettings, events: list[SurveyResponseSubmittedV1]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send(
                settings.topic(event.TOPIC),
                event.to_json_bytes(),
                key=event.partition_key,
                headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def _problems_opened(settings: AnalyzerSettings) -> list[ProblemOpenedV1]:
    """Every problem_opened on the topic, from its start (no group), until 3 s of silence."""
    consumer = AIOKafkaConsumer(
        settings.topic(PROBLEMS_TOPIC),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found, idle = [], 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=1000)
            idle = 0 if batch else idle + 1
            for messages in batch.values():
                for message in messages:
                    event = decode_event(message.value or b"")
                    if isinstance(event, ProblemOpenedV1):
                        found.append(event)
        return found
    finally:
        await consumer.stop()


async def _until(what: str, probe: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await probe():
            return
        await asyncio.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


async def test_a_drop_at_one_site_is_one_problem_and_one_draft_action(
    analyzer_settings: AnalyzerSettings,
    actions_settings: ActionsSettings,
    mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    events = _responses()
    received = mongo[analyzer_settings.mongodb_database]["received_events"]
    drafts = mongo[actions_settings.mongodb_database]["actions"]
    degradations = mongo[analyzer_settings.mongodb_database]["episodes"]
    # First every response counted (a round of detection on part of the data would be
    # re-run on late data anyway), then detection on the whole data and drafting.
    counting = create_analyzer(
        analyzer_settings.model_copy(update={"detection_interval_seconds": 3600})
    )
    async with counting.router.lifespan_context(counting):
        await _publish(analyzer_settings, events)

        async def counted() -> bool:
            return await received.count_documents({}) >= len(events)

        await _until("every response counted", counted)
    analyzer, actions = create_analyzer(analyzer_settings), create_actions(actions_settings)
    async with (
        analyzer.router.lifespan_context(analyzer),
        actions.router.lifespan_context(actions),
    ):

        async def drafted() -> bool:
            return await drafts.count_documents({"network_id": NETWORK}) > 0

        await _until("a draft action", drafted)
        await asyncio.sleep(5)  # whatever detection or drafting would add comes meanwhile

        opened = await _problems_opened(analyzer_settings)
        scopes = [d["key"] async for d in degradations.find({"network_id": NETWORK})]
        grouped = len(scopes)
        actions_made = [d async for d in drafts.find({"network_id": NETWORK})]

    print(f"\ndegradations grouped in the problem: {scopes}")
    assert grouped >= 2, scopes  # overall and platform, at least
    (problem,) = opened
    # the most specific scope that explains it: Lyon, or the network when the detection
    # flagged the drop there only (on two sites a drop at one moves the network too)
    at_lyon = any("/site:lyon" in key for key in scopes)
    expected = ("lyon", ScopeLevel.SITE) if at_lyon else (None, ScopeLevel.NETWORK)
    assert [(s.site_id, s.level) for s in problem.data.scopes] == [expected]
    assert len(problem.data.degradation_ids) == grouped
    assert problem.data.themes[0].theme == "platform"
    (action,) = actions_made
    assert action["_id"] == problem_action_id(NETWORK, problem.data.problem_id)
    assert action["status"] == "draft"
    assert ("lyon" if at_lyon else f"réseau {NETWORK}") in action["title"]
