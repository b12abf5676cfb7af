"""Poison to the dead-letter topic, unhandled types skipped, transient failures re-raised,
a message its handler keeps failing on parked after N counted attempts.

Runs on FastStream's in-memory broker (``TestKafkaBroker``): the middleware sees the same
``aiokafka.ConsumerRecord`` as on a real broker, but the test broker always reports offset
0 and has no consumer offsets, so the rewind that NACK_ON_ERROR performs after a handler
failure is not observable here (tests/integration covers it against a real broker).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaTimeoutError
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import CollectorRegistry
from pymongo.errors import (
    AutoReconnect,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.registry import AnyEvent, dead_letter_topic
from boucle_runtime import deadletter
from boucle_runtime.backends import BackendMonitor, register_monitor
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

GROUP = "boucle-test"
SETTINGS = ServiceSettings(topic_prefix="unit.")
FEEDBACK = SETTINGS.topic(FEEDBACK_TOPIC)
KEY = b"reseau-horizon/lyon-part-dieu"
VALID = example_of(SurveyResponseSubmittedV1)


@dataclass
class DeadLetter:
    value: bytes
    key: bytes | None
    headers: dict[str, str]


@dataclass
class Rig:
    broker: KafkaBroker
    consumers: Consumers
    registry: CollectorRegistry
    handled: list[AnyEvent] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def dead_letters(self, reason: str) -> float:
        labels = {"group": self.consumers.group, "reason": reason}
        return self.registry.get_sample_value("boucle_dead_letters_total", labels) or 0.0

    def skipped(self, event_type: str) -> float:
        labels = {"group": self.consumers.group, "event_type": event_type}
        return self.registry.get_sample_value("boucle_events_skipped_total", labels) or 0.0


@pytest.fixture
def rig() -> Rig:
    broker = KafkaBroker()
    registry = CollectorRegistry()
    consumers = Consumers(broker, SETTINGS, group=GROUP, registry=registry)
    rig = Rig(broker, consumers, registry)

    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def handle(event: SurveyResponseSubmittedV1) -> None:
        if rig.failures:
            raise rig.failures.pop(0)
        rig.handled.append(event)

    consumers.attach()

    @broker.subscriber(SETTINGS.topic(dead_letter_topic(GROUP)))
    async def park(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        rig.dead.append(
            DeadLetter(record.value or b"", record.key, {k: v.decode() for k, v in record.headers})
        )

    return rig


async def _send(rig: Rig, value: bytes, headers: dict[str, str] | None = None) -> None:
    async with TestKafkaBroker(rig.broker) as br:
        await br.publish(value, topic=FEEDBACK, key=KEY, headers=headers or {})


def _violation() -> bytes:
    document = json.loads(VALID.to_json_bytes())
    document["data"]["survey_kind"] = "weekly"
    return json.dumps(document).encode()


def _unknown_type() -> bytes:
    document = json.loads(VALID.to_json_bytes())
    document["type"] = "fr.boucle.feedback.survey_response_submitted.v9"
    return json.dumps(document).encode()


async def test_a_valid_event_reaches_the_handler_as_its_concrete_class(rig: Rig) -> None:
    await _send(rig, VALID.to_json_bytes(), wire.headers_for(VALID))

    assert rig.handled == [VALID]
    assert type(rig.handled[0]) is SurveyResponseSubmittedV1
    assert rig.dead == []


async def test_an_event_without_cloudevents_headers_is_handled_too(rig: Rig) -> None:
    await _send(rig, VALID.to_json_bytes())  # no CloudEvents headers at all

    assert rig.handled == [VALID]


@pytest.mark.parametrize(
    ("value", "reason", "error_mentions"),
    [
        (b"{not json", "ValidationError", "json"),
        (b"", "ValidationError", "json"),
        (_violation(), "ValidationError", "survey_kind"),
        (_unknown_type(), "UnknownEventTypeError", "survey_response_submitted.v9"),
    ],
    ids=["malformed-json", "empty", "contract-violation", "unknown-type"],
)
async def test_poison_goes_to_the_dead_letter_topic_not_to_the_handler(
    rig: Rig, value: bytes, reason: str, error_mentions: str
) -> None:
    await _send(rig, value, {"ce_id": "evt-poison"})

    assert rig.handled == []
    (dead,) = rig.dead
    assert (dead.value, dead.key) == (value, KEY), "parked byte for byte, same key"
    assert dead.headers[wire.HEADER_DLQ_REASON] == reason
    assert error_mentions in dead.headers[wire.HEADER_DLQ_ERROR].lower()
    assert dead.headers[wire.HEADER_DLQ_TOPIC] == FEEDBACK
    assert dead.headers[wire.HEADER_DLQ_PARTITION] == "0"
    assert dead.headers[wire.HEADER_DLQ_OFFSET] == "0"
    assert dead.headers[wire.HEADER_DLQ_GROUP] == rig.consumers.group == "unit.boucle-test"
    assert dead.headers[wire.HEADER_DLQ_FAILED_AT]
    assert dead.headers["ce_id"] == "evt-poison", "original headers are kept"
    assert rig.dead_letters(reason) == 1


async def test_the_consumer_goes_on_after_poison(rig: Rig) -> None:
    async with TestKafkaBroker(rig.broker) as br:
        await br.publish(b"{not json", topic=FEEDBACK)
        await br.publish(VALID.to_json_bytes(), topic=FEEDBACK)

    assert rig.handled == [VALID]
    assert len(rig.dead) == 1


async def test_an_over_long_error_is_truncated_in_the_header(rig: Rig) -> None:
    document = json.loads(VALID.to_json_bytes())
    document["data"]["answers"] = [{"type": "scale"}] * 200  # hundreds of errors
    await _send(rig, json.dumps(document).encode())

    (dead,) = rig.dead
    assert len(dead.headers[wire.HEADER_DLQ_ERROR]) == 2000


@pytest.mark.parametrize("hinted", [True, False], ids=["by-header", "by-value"])
async def test_a_known_type_this_consumer_does_not_handle_is_skipped(
    rig: Rig, hinted: bool
) -> None:
    complaint = example_of(ComplaintReceivedV1)

    await _send(rig, complaint.to_json_bytes(), wire.headers_for(complaint) if hinted else None)

    assert rig.handled == []
    assert rig.dead == []
    assert rig.skipped(complaint.type) == 1


async def test_skipping_by_header_does_not_even_parse_the_value(rig: Rig) -> None:
    await _send(rig, b"not for us", {wire.HEADER_TYPE: ComplaintReceivedV1.EVENT_TYPE})

    assert rig.dead == []
    assert rig.skipped(ComplaintReceivedV1.EVENT_TYPE) == 1


async def test_an_unknown_type_header_does_not_hide_a_handled_event(rig: Rig) -> None:
    await _send(rig, VALID.to_json_bytes(), {wire.HEADER_TYPE: "com.example.other.v1"})

    assert rig.handled == [VALID]


async def test_a_transient_failure_is_re_raised_after_a_backoff_not_dead_lettered(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    monkeypatch.setattr(deadletter, "asyncio", SimpleNamespace(sleep=sleep))
    rig.failures = [ConnectionError("database down"), ConnectionError("still down")]

    async with TestKafkaBroker(rig.broker) as br:
        for _ in range(2):
            with pytest.raises(ConnectionError):
                await br.publish(VALID.to_json_bytes(), topic=FEEDBACK)
        await br.publish(VALID.to_json_bytes(), topic=FEEDBACK)  # the retry succeeds

    assert rig.handled == [VALID]
    assert rig.dead == []
    assert sleeps == [0.2, 0.4], "each consecutive failure waits longer"


async def test_the_backoff_doubles_up_to_its_ceiling_and_resets_on_success(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    monkeypatch.setattr(deadletter, "asyncio", SimpleNamespace(sleep=sleep))
    backoff = deadletter._Backoff("g", first=0.2, ceiling=1.0)

    for _ in range(5):
        await backoff.failed(ConnectionError())
    backoff.succeeded()
    await backoff.failed(ConnectionError())

    assert sleeps == [0.2, 0.4, 0.8, 1.0, 1.0, 0.2]


async def test_a_real_backoff_actually_waits(rig: Rig) -> None:
    rig.failures = [ConnectionError("database down")]

    started = time.perf_counter()
    with pytest.raises(ConnectionError):
        await _send(rig, VALID.to_json_bytes())

    assert time.perf_counter() - started >= 0.19


# --- A handler that keeps failing on one message: parked after N counted attempts ---------


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    monkeypatch.setattr(deadletter, "asyncio", SimpleNamespace(sleep=sleep))
    return sleeps


def _failing_rig(failures: list[Exception], *, attempts: int = 3, backends_up: bool = True) -> Rig:
    """A rig whose group parks after ``attempts`` counted failures."""
    broker = KafkaBroker()
    registry = CollectorRegistry()
    settings = SETTINGS.model_copy(update={"handler_max_attempts": attempts})
    consumers = Consumers(broker, settings, group=GROUP, registry=registry)
    rig = Rig(broker, consumers, registry, failures=failures)
    if not backends_up:
        monitor = BackendMonitor({"mongodb": _down}, registry=registry)
        monitor._up["mongodb"] = False  # as after a failed readiness check
        register_monitor(broker, monitor)

    @consumers.subscriber(handles=[SurveyResponseSubmittedV1])
    async def handle(event: SurveyResponseSubmittedV1) -> None:
        if rig.failures:
            raise rig.failures.pop(0)
        rig.handled.append(event)

    consumers.attach()

    @broker.subscriber(SETTINGS.topic(dead_letter_topic(GROUP)))
    async def park(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        rig.dead.append(
            DeadLetter(record.value or b"", record.key, {k: v.decode() for k, v in record.headers})
        )

    return rig


async def _down() -> bool:
    return False


async def _deliver_until_settled(rig: Rig, times: int) -> int:
    """Redeliver the same message (as NACK_ON_ERROR's rewind does); returns the raises seen."""
    raised = 0
    async with TestKafkaBroker(rig.broker) as br:
        for _ in range(times):
            try:
                await br.publish(VALID.to_json_bytes(), topic=FEEDBACK, key=KEY)
            except Exception:
                raised += 1
    return raised


async def test_a_message_its_handler_keeps_failing_on_is_parked_after_n_attempts(
    no_sleep: list[float],
) -> None:
    failures: list[Exception] = [KeyError("score")] * 3
    rig = _failing_rig(failures, attempts=3)

    raised = await _deliver_until_settled(rig, 4)

    assert raised == 2, "attempts 1 and 2 raise (the partition rewinds), the 3rd parks"
    (dead,) = rig.dead
    assert (dead.value, dead.key) == (VALID.to_json_bytes(), KEY), "parked byte for byte"
    assert dead.headers[wire.HEADER_DLQ_REASON] == deadletter.HANDLER_FAILED == "HandlerFailed"
    assert dead.headers[deadletter.HEADER_DLQ_EXCEPTION] == "KeyError"
    assert dead.headers[deadletter.HEADER_DLQ_ATTEMPTS] == "3"
    assert dead.headers[wire.HEADER_DLQ_ERROR] == "KeyError: 'score'"
    assert dead.headers[wire.HEADER_DLQ_GROUP] == rig.consumers.group
    assert rig.dead_letters("HandlerFailed") == 1
    assert rig.handled == [VALID], "the 4th delivery (a later message) is handled again"
    assert no_sleep == [0.2, 0.4], "bounded exponential backoff between attempts"


async def test_the_parked_error_is_masked_by_value(no_sleep: list[float]) -> None:
    boom = ValueError("no trainer for jeanne.martin@example.fr, call 06 12 34 56 78")
    rig = _failing_rig([boom], attempts=1)

    await _deliver_until_settled(rig, 1)

    (dead,) = rig.dead
    error = dead.headers[wire.HEADER_DLQ_ERROR]
    assert "jeanne.martin" not in error
    assert "06 12 34" not in error
    assert error == "ValueError: no trainer for [masked], call [masked]"


@pytest.mark.parametrize(
    "outage",
    [
        ConnectionRefusedError("connection refused"),
        TimeoutError(),
        ServerSelectionTimeoutError("127.0.0.1:27017: connection refused"),
        AutoReconnect("connection closed"),
        KafkaTimeoutError(),
        RuntimeError("wrapped"),
    ],
    ids=["refused", "timeout", "mongo-selection", "mongo-reconnect", "kafka-timeout", "caused"],
)
async def test_failures_that_say_a_backend_is_unreachable_are_never_counted(
    no_sleep: list[float], outage: Exception
) -> None:
    if isinstance(outage, RuntimeError):
        outage.__cause__ = ConnectionResetError("reset by peer")
    rig = _failing_rig([outage] * 6, attempts=2)

    raised = await _deliver_until_settled(rig, 7)

    assert raised == 6, "retried for as long as the outage lasts"
    assert rig.dead == []
    assert rig.handled == [VALID]


async def test_failures_while_a_readiness_check_is_down_are_not_counted(
    no_sleep: list[float],
) -> None:
    rig = _failing_rig([KeyError("x")] * 4, attempts=2, backends_up=False)

    raised = await _deliver_until_settled(rig, 5)

    assert raised == 4
    assert rig.dead == []
    assert rig.handled == [VALID]


async def test_the_count_starts_again_after_a_success(no_sleep: list[float]) -> None:
    rig = _failing_rig([KeyError("x")], attempts=2)

    await _deliver_until_settled(rig, 2)  # fails once, then succeeds
    rig.failures = [KeyError("y")]
    await _deliver_until_settled(rig, 2)

    assert rig.dead == []
    assert rig.handled == [VALID, VALID]


def test_outages_are_recognised_through_causes_and_pymongo_labels() -> None:
    wrapped = RuntimeError("could not save")
    wrapped.__cause__ = NetworkTimeout("timed out")
    retryable = OperationFailure("not master", code=10107)
    retryable._add_error_label("RetryableWriteError")

    assert deadletter.is_outage(wrapped)
    assert deadletter.is_outage(retryable)
    assert not deadletter.is_outage(OperationFailure("bad $set", code=9))
    assert not deadletter.is_outage(KeyError("score"))
