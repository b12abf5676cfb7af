"""The collector on the real broker: what it publishes validates against the committed JSON
Schemas, a duplicate delivery is published once, and no acknowledgement means 503 (outcome
unknown, the retry carries the same event id).

Nothing shared is stopped: "Kafka down" is a collector pointed at an unreachable bootstrap,
and "Kafka does not acknowledge" is a topic of this test whose broker refuses every write
(``max.message.bytes`` too small) until the test raises the limit again.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from boucle_collector.adapters.webhook_formats import typeform
from boucle_collector.app import create_app
from boucle_collector.domain.integrations import hash_key
from boucle_collector.settings import CollectorSettings
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS_TOPIC
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.registry import EVENTS_BY_TYPE, AnyEvent
from boucle_contracts.training.v1 import TOPIC as TRAINING_TOPIC
from boucle_contracts.training.v1 import (
    DropoutRecordedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 2
API_KEY = "integration-test-key"
TYPEFORM_SECRET = "integration-typeform-secret"
SECRET_ENV = "BOUCLE_TEST_COLLECTOR_TYPEFORM_SECRET"
SITE = "/v1/networks/net-1/sites/site-a"
HEADERS = {"X-Api-Key": API_KEY}
NATIVE: dict[str, type[AnyEvent]] = {
    "survey-responses": SurveyResponseSubmittedV1,
    "complaints": ComplaintReceivedV1,
    "hazards": HazardReportedV1,
    "enrolments": EnrolmentRecordedV1,
    "session-completions": SessionCompletedV1,
    "dropouts": DropoutRecordedV1,
}
INTEGRATIONS = {
    "integrations": [
        {
            "id": "tms",
            "platform": "api",
            "network_id": "net-1",
            "sites": ["site-a"],
            "api_keys": [{"id": "k1", "sha256": hash_key(API_KEY)}],
        },
        {
            "id": "tf",
            "platform": "typeform",
            "network_id": "net-1",
            "sites": ["site-a"],
            "secrets": [{"env": SECRET_ENV}],
            "forms": {
                "F1": {
                    "site_id": "site-a",
                    "survey_kind": "hot",
                    "respondent_role": "learner",
                    "questions": {
                        "overall": {"answer_type": "scale", "dimension": "overall"},
                        "email": {"role": "respondent_email"},
                    },
                }
            },
        },
    ]
}
TYPEFORM_BODY = json.dumps(
    {
        "event_id": "e1",
        "event_type": "form_response",
        "form_response": {
            "form_id": "F1",
            "token": "tok-1",
            "submitted_at": "2025-03-18T10:00:00Z",
            "answers": [
                {"type": "number", "number": 4, "field": {"id": "a", "ref": "overall"}},
                {"type": "email", "email": "lea@exemple.fr", "field": {"id": "b", "ref": "email"}},
                {"type": "text", "text": "Rien à ajouter", "field": {"id": "c"}},
            ],
        },
    }
).encode()


def _settings(
    bootstrap: str, isolation: str, integrations: Path | None, **extra: Any
) -> CollectorSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "topic_prefix": f"{isolation}.",
        "topic_partitions": PARTITIONS,
        "integrations_file": integrations,
        "pseudonymisation_secret": "integration-pseudonym-secret-32b",
        "publish_timeout_seconds": 15.0,
        # MongoDB (mappings managed through the API): a database of this test; it stays
        # empty, so nothing needs dropping.
        "mongodb_database": f"collector_{isolation}",
    }
    return CollectorSettings(_env_file=None, **(values | extra))


@pytest.fixture
def integrations_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, TYPEFORM_SECRET)
    path = tmp_path / "integrations.json"
    path.write_text(json.dumps(INTEGRATIONS), encoding="utf-8")
    return path


@pytest.fixture
def client(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, integrations_file: Path
) -> Iterator[TestClient]:
    settings = _settings(kafka_bootstrap, isolation, integrations_file, mongodb_uri=mongodb_uri)
    app = create_app(settings)
    with TestClient(app) as client:  # runs the lifespan: topics, broker
        yield client


def _records(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` now, decoded as JSON."""

    async def read() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            documents: list[dict[str, Any]] = []

            async def behind() -> bool:
                return any([await consumer.position(p) < ends[p] for p in partitions])

            async with asyncio.timeout(30):
                while await behind():
                    batches = await consumer.getmany(*partitions, timeout_ms=500)
                    for records in batches.values():
                        documents += [json.loads(r.value or b"") for r in records]
            return documents
        finally:
            await consumer.stop()

    return asyncio.run(read())


def _post_typeform(client: TestClient) -> Any:
    signature = typeform.sign(TYPEFORM_SECRET, TYPEFORM_BODY)
    return client.post(
        "/v1/webhooks/typeform/tf", content=TYPEFORM_BODY, headers={"Typeform-Signature": signature}
    )


def _schema_validator(event_type: str) -> Draft202012Validator:
    cls = EVENTS_BY_TYPE[event_type]
    family, _, name = cls.DATA_SCHEMA.removeprefix("urn:boucle:schema:").split(":")
    path = ROOT / "contracts" / "schemas" / family / "v1" / f"{name}.json"
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def test_every_published_event_validates_against_its_committed_schema(
    client: TestClient, kafka_bootstrap: str, isolation: str
) -> None:
    answers = {
        slug: client.post(
            f"{SITE}/{slug}", json=example_of(cls).data.model_dump(mode="json"), headers=HEADERS
        )
        for slug, cls in NATIVE.items()
    }
    webhook = _post_typeform(client)

    assert {slug: a.status_code for slug, a in answers.items()} == dict.fromkeys(NATIVE, 202)
    assert webhook.status_code == 200, webhook.text
    published = [
        document
        for topic in (FEEDBACK_TOPIC, INCIDENTS_TOPIC, TRAINING_TOPIC)
        for document in _records(kafka_bootstrap, f"{isolation}.{topic}")
    ]
    expected_ids = {a.json()["event_id"] for a in answers.values()} | {webhook.json()["event_id"]}
    assert {d["id"] for d in published} == expected_ids
    assert len(published) == 7
    for document in published:
        errors = [e.message for e in _schema_validator(document["type"]).iter_errors(document)]
        assert errors == [], (document["type"], errors)
    (from_typeform,) = [d for d in published if d["id"] == webhook.json()["event_id"]]
    assert from_typeform["source"] == "/collector/webhooks/typeform"
    assert from_typeform["data"]["respondent_ref"].startswith("p-")
    assert "lea@" not in json.dumps(from_typeform)
    # Question c is declared by no mapping: dropped (it may hold a name), counted, not sent.
    assert from_typeform["data"]["unmapped"] == []
    assert "Rien à ajouter" not in json.dumps(from_typeform, ensure_ascii=False)
    assert webhook.json()["dropped"] == 1


def test_the_start_up_heap_is_frozen_out_of_the_garbage_collectors_way(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, integrations_file: Path
) -> None:
    """Full collections walking everything start-up made stalled the event loop during
    large imports: the service freezes that heap once started (gc.freeze)."""
    gc.unfreeze()
    settings = _settings(kafka_bootstrap, isolation, integrations_file, mongodb_uri=mongodb_uri)
    try:
        with TestClient(create_app(settings)):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_duplicate_delivery_is_published_once(
    client: TestClient, kafka_bootstrap: str, isolation: str
) -> None:
    body = example_of(SurveyResponseSubmittedV1).data.model_dump(mode="json")
    native = [client.post(f"{SITE}/survey-responses", json=body, headers=HEADERS) for _ in range(2)]
    hooks = [_post_typeform(client) for _ in range(3)]

    assert [a.status_code for a in native] == [202, 200]
    assert [h.json()["status"] for h in hooks] == ["accepted", "duplicate", "duplicate"]
    ids = [d["id"] for d in _records(kafka_bootstrap, f"{isolation}.{FEEDBACK_TOPIC}")]
    assert sorted(ids) == sorted([native[0].json()["event_id"], hooks[0].json()["event_id"]])


def test_a_collector_whose_kafka_is_unreachable_answers_503_and_is_not_ready(
    isolation: str,
) -> None:
    settings = _settings("127.0.0.1:1", isolation, None, create_topics=False)
    client = TestClient(create_app(settings))  # no lifespan: the broker cannot connect
    body = example_of(SurveyResponseSubmittedV1).data.model_dump(mode="json")

    response = client.post(f"{SITE}/survey-responses", json=body)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    # Said as it is: Kafka did not confirm, the outcome is unknown, a retry is safe.
    assert response.json()["outcome"] == "unknown"
    assert "Retrying is safe" in response.json()["detail"]
    assert client.get("/health/ready").status_code == 503


def _set_max_message_bytes(bootstrap: str, topic: str, limit: int, *, create: bool) -> None:
    async def apply() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            config = {"max.message.bytes": str(limit)}
            if create:
                new = NewTopic(topic, PARTITIONS, replication_factor=1, topic_configs=config)
                await admin.create_topics([new])
            else:
                resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs=config)
                await admin.alter_configs([resource])
        finally:
            await admin.close()

    asyncio.run(apply())


def _until_accepted(post: Callable[[], Any]) -> Any:
    """Retry as a sender would, while the broker takes the new topic configuration."""
    for _ in range(20):
        answer = post()
        if answer.status_code != 503:
            return answer
        time.sleep(0.5)
    return answer


def test_a_write_the_broker_refuses_is_answered_503_and_the_retry_is_accepted(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, integrations_file: Path
) -> None:
    topic = f"{isolation}.{FEEDBACK_TOPIC}"
    _set_max_message_bytes(kafka_bootstrap, topic, 64, create=True)  # every event is too big
    settings = _settings(
        kafka_bootstrap,
        isolation,
        integrations_file,
        mongodb_uri=mongodb_uri,
        publish_timeout_seconds=5.0,
    )
    body = example_of(SurveyResponseSubmittedV1).data.model_dump(mode="json")

    def post() -> Any:
        return collector.post(f"{SITE}/survey-responses", json=body, headers=HEADERS)

    with TestClient(create_app(settings)) as collector:
        refused, hook_refused = post(), _post_typeform(collector)
        _set_max_message_bytes(kafka_bootstrap, topic, 1_048_588, create=False)
        accepted = _until_accepted(post)
        hook_accepted = _until_accepted(lambda: _post_typeform(collector))

    assert (refused.status_code, hook_refused.status_code) == (503, 503)
    assert refused.headers["Retry-After"] == hook_refused.headers["Retry-After"] == "5"
    assert (accepted.status_code, hook_accepted.status_code) == (202, 200)
    assert hook_accepted.json()["status"] == "accepted"  # the refusal was not remembered
    assert refused.json()["event_id"] == accepted.json()["event_id"]  # what makes retries safe
    assert refused.json()["outcome"] == "unknown"
    ids = [d["id"] for d in _records(kafka_bootstrap, topic)]
    assert sorted(ids) == sorted([accepted.json()["event_id"], hook_accepted.json()["event_id"]])
