"""List and replay a consumer group's dead letters.

    python -m tools.deadletters list   --group boucle-analyzer [--topic-prefix P] [--bootstrap B]
    python -m tools.deadletters replay --group boucle-analyzer [--only PARTITION:OFFSET ...]
                                       [--value-file corrected.json]

``list`` prints one JSON object per dead letter (its position on the dead-letter topic, the
reason headers, where it came from; the value only with ``--values``: it may hold personal
data). ``replay`` publishes the original value (or, for exactly one selected dead letter,
the corrected value read from ``--value-file``) with its original key and headers to its
original topic. Event ids make a replay idempotent: consumers skip an id they already
applied. A value that is still poison is simply dead-lettered again.

Against a secured cluster, connect as the admin (a service's own user may neither read its
dead letters nor write another service's topic): ``KAFKA_SECURITY_PROTOCOL=SASL_SSL``,
``KAFKA_SASL_USERNAME``, ``KAFKA_SASL_PASSWORD``, ``KAFKA_SSL_CAFILE`` (the runtime's Kafka
settings without a service prefix; see docs/security.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from boucle_contracts import kafka as wire
from boucle_contracts.registry import dead_letter_topic
from boucle_runtime.kafka_security import client_options
from boucle_runtime.settings import KafkaSettings

DLQ_HEADER_PREFIX = "boucle_dlq_"


def connection(bootstrap: str) -> dict[str, Any]:
    """aiokafka client options: ``bootstrap``, secured as the unprefixed KAFKA_* env says."""
    return client_options(KafkaSettings(kafka_bootstrap_servers=bootstrap))


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def original_topic(self) -> str:
        return self.headers.get(wire.HEADER_DLQ_TOPIC, "")

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The message's own headers, without the ones the dead-letter sink added."""
        return [
            (name, value.encode())
            for name, value in self.headers.items()
            if not name.startswith(DLQ_HEADER_PREFIX)
        ]

    def summary(self, *, with_value: bool) -> dict[str, Any]:
        h = self.headers
        found: dict[str, Any] = {
            "position": self.position,
            "reason": h.get(wire.HEADER_DLQ_REASON),
            "error": h.get(wire.HEADER_DLQ_ERROR),
            "original_topic": self.original_topic,
            "original_partition": h.get(wire.HEADER_DLQ_PARTITION),
            "original_offset": h.get(wire.HEADER_DLQ_OFFSET),
            "consumer_group": h.get(wire.HEADER_DLQ_GROUP),
            "failed_at": h.get(wire.HEADER_DLQ_FAILED_AT),
            "event_type": h.get(wire.HEADER_TYPE),
            "event_id": h.get(wire.HEADER_ID),
            "value_bytes": len(self.value),
        }
        if with_value:
            found["value"] = self.value.decode(errors="replace")
        return found


async def read_dead_letters(*, bootstrap: str, topic: str) -> list[DeadLetter]:
    """Everything on the dead-letter topic up to its end when called (no group, no commit)."""
    consumer = AIOKafkaConsumer(
        **connection(bootstrap), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = await topic_partitions(bootstrap, topic)
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = {tp: off for tp, off in (await consumer.end_offsets(partitions)).items() if off}
        letters: list[DeadLetter] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                letters.extend(
                    DeadLetter(
                        partition=tp.partition,
                        offset=r.offset,
                        key=r.key,
                        value=r.value or b"",
                        headers={k: (v or b"").decode(errors="replace") for k, v in r.headers},
                    )
                    for r in records
                    if r.offset < ends.get(tp, 0)
                )
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The topic's partitions; none when it does not exist (yet)."""
    admin = AIOKafkaAdminClient(**connection(bootstrap))
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        TopicPartition(topic, int(p["partition"]))
        for found in described
        if found.get("error_code", 0) == 0
        for p in found.get("partitions", ())
    )


async def replay(
    letters: Sequence[DeadLetter], *, bootstrap: str, value: bytes | None = None
) -> list[DeadLetter]:
    """Publish each dead letter's value (or ``value``) to its original topic, acks=all."""
    producer = AIOKafkaProducer(**connection(bootstrap), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(
                letter.original_topic,
                value=value if value is not None else letter.value,
                key=letter.key,
                headers=letter.replay_headers(),
            )
    finally:
        await producer.stop()
    return list(letters)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.deadletters", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("list", "replay"):
        command = commands.add_parser(name)
        command.add_argument("--group", required=True, help="consumer group, e.g. boucle-analyzer")
        command.add_argument("--topic-prefix", default="", help="the services' TOPIC_PREFIX")
        command.add_argument(
            "--bootstrap",
            default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)",
        )
        command.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="PARTITION:OFFSET",
            help="only this dead letter (its position as listed); repeatable",
        )
    commands.choices["list"].add_argument(
        "--values", action="store_true", help="print the values too (may hold personal data)"
    )
    commands.choices["replay"].add_argument(
        "--value-file", type=Path, help="replay this corrected value instead (one --only)"
    )
    return parser


async def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    topic = f"{args.topic_prefix}{dead_letter_topic(args.group)}"
    letters = await read_dead_letters(bootstrap=args.bootstrap, topic=topic)
    if args.only:
        letters = [d for d in letters if d.position in set(args.only)]
        missing = set(args.only) - {d.position for d in letters}
        if missing:
            print(f"no dead letter at {', '.join(sorted(missing))} on {topic}", file=sys.stderr)
            return 2
    if args.command == "list":
        for letter in letters:
            print(json.dumps(letter.summary(with_value=args.values), ensure_ascii=False))
        return 0
    value: bytes | None = None
    if args.value_file is not None:
        if len(args.only) != 1:
            print("--value-file replaces exactly one dead letter: give one --only", file=sys.stderr)
            return 2
        value = args.value_file.read_bytes()
    for letter in await replay(letters, bootstrap=args.bootstrap, value=value):
        print(json.dumps({"replayed": letter.position, "to": letter.original_topic}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(argv))


if __name__ == "__main__":
    sys.exit(main())
