"""How events travel on Kafka: CloudEvents structured mode (see contracts/README.md).

The message value is the whole CloudEvent as JSON; the ``content-type`` header says so.
``ce_type`` and ``ce_id`` headers repeat two attributes as routing hints so that a consumer
can skip event types it does not handle without parsing the value; the value is
authoritative. The key is the event's partition key (network and site).
"""

from __future__ import annotations

from boucle_contracts.registry import AnyEvent

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
HEADER_CONTENT_TYPE = "content-type"
HEADER_TYPE = "ce_type"
HEADER_ID = "ce_id"

# Dead-letter headers: why and where a message failed.
HEADER_DLQ_REASON = "boucle_dlq_reason"
HEADER_DLQ_ERROR = "boucle_dlq_error"
HEADER_DLQ_TOPIC = "boucle_dlq_original_topic"
HEADER_DLQ_PARTITION = "boucle_dlq_original_partition"
HEADER_DLQ_OFFSET = "boucle_dlq_original_offset"
HEADER_DLQ_GROUP = "boucle_dlq_consumer_group"
HEADER_DLQ_FAILED_AT = "boucle_dlq_failed_at"


def headers_for(event: AnyEvent) -> dict[str, str]:
    return {HEADER_CONTENT_TYPE: CONTENT_TYPE, HEADER_TYPE: event.type, HEADER_ID: event.id}
