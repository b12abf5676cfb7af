"""A historical import on the real broker and database: detection runs in data time.

Thirty-two weeks of past survey responses (2025, published in one go, today) flows through the
analyzer app while its detection loop runs every second. Partitions are consumed at their
own pace, so weeks are first evaluated with part of their data, then again when the rest
arrives (late data moves the cursor back). At the end the site whose ratings dropped has
exactly one degradation, opened in the week of the drop, with a detection date in 2025.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from boucle_analyzer.adapters.mongo_degradations import MongoDegradationStore
from boucle_analyzer.app import create_app
from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts import kafka as wire
from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
)
from boucle_contracts.signals.v1 import Metric

pytestmark = pytest.mark.integration
NETWORK = "reseau-historique"
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)
WEEKS = 32
DROP_WEEK = 26
SITES = ("lyon", "lille", "nantes")
GOOD = (5, 5, 4, 4, 4, 5, 3, 4, 5, 4)  # mean 4.3
BAD = (3, 2, 3, 2, 4, 3, 2, 1, 3, 3)  # mean 2.6
TIMEOUT_SECONDS = 420.0


def _responses() -> list[SurveyResponseSubmittedV1]:
    events = []
    for week in range(WEEKS):
        for site in SITES:
            ratings = BAD if site == "lyon" and week >= DROP_WEEK else GOOD
            for number, rating in enumerate(ratings):
                at = START + week * WEEK + timedelta(hours=9 + 14 * number)
                events.append(
                    SurveyResponseSubmittedV1.create(
                        data=SurveyResponseSubmitted(
                            response_id=f"r-{site}-{week}-{number}",
                            survey_id="s",
                            survey_kind=SurveyKind.HOT,
                            respondent_role=RespondentRole.LEARNER,
                            submitted_at=at,
                            channel="import",
                            training=TrainingRef(),
                            answers=(ScaleAnswer(type="scale", question_id="q", value=rating),),
                        ),
                        network_id=NETWORK,
                        site_id=site,
                        source="/test/import",
                        event_id=f"e-{site}-{week}-{number}",
                        time=at,
                    )
                )
    return events


@pytest.fixture
def settings(kafka_bootstrap: str, mongodb_uri: str, isolation: str) -> AnalyzerSettings:
    return AnalyzerSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        mongodb_database=f"analyzer_{isolation}",
        topic_prefix=f"{isolation}.",
        topic_partitions=3,
        snapshot_interval_seconds=3600,
        detection_interval_seconds=1.0,
        graceful_timeout_seconds=10,
    )


@pytest.fixture
async def degradations(settings: AnalyzerSettings) -> AsyncIterator[MongoDegradationStore]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    yield MongoDegradationStore(client, settings.mongodb_database)
    await client.drop_database(settings.mongodb_database)
    await client.close()


async def _publish(settings: AnalyzerSettings, events: list[SurveyResponseSubmittedV1]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(
                settings.topic(event.TOPIC),
                event.to_json_bytes(),
                key=event.partition_key,
                headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
            )
            for event in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


@pytest.mark.timeout(600)  # a shared machine: ~1,000 events, then every week re-evaluated
async def test_a_year_imported_at_once_opens_the_degradation_of_its_drop_in_data_time(
    settings: AnalyzerSettings, degradations: MongoDegradationStore
) -> None:
    last_complete = START + (WEEKS - 2) * WEEK  # the last week ends after the watermark

    async def lyon() -> list[Degradation]:
        found = await degradations.degradations(network_id=NETWORK, open_only=False)
        return [d for d in found if d.scope.site_id == "lyon"]

    async def settled() -> bool:
        progress = await degradations.progress(network_id=NETWORK)
        return progress.through == last_complete and len(await lyon()) == 1

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _publish(settings, _responses())
        deadline = asyncio.get_running_loop().time() + TIMEOUT_SECONDS
        while not await settled():
            if asyncio.get_running_loop().time() > deadline:
                found = await degradations.degradations(network_id=NETWORK, open_only=False)
                progress = await degradations.progress(network_id=NETWORK)
                pytest.fail(f"not settled: through {progress.through}, degradations {found}")
            await asyncio.sleep(1.0)

    [degradation] = await lyon()
    others = await degradations.degradations(network_id=NETWORK, open_only=False)
    # besides Lyon's, only the network's own (a third of its ratings dropped by 1.7 points)
    assert {d.scope.site_id for d in others} == {"lyon", None}
    assert degradation.metric is Metric.MEAN_SATISFACTION
    assert degradation.open
    # found within two weeks of the drop (a 10-rating week adds at most ~5 to the CUSUM)
    assert START + DROP_WEEK * WEEK <= degradation.opened_week <= START + (DROP_WEEK + 1) * WEEK
    assert degradation.current.period.end <= START + WEEKS * WEEK  # 2025 data time
    progress = await degradations.progress(network_id=NETWORK)
    assert progress.watermark is not None
    assert progress.watermark < datetime(2026, 1, 1, tzinfo=UTC)  # the data's time, not today's
