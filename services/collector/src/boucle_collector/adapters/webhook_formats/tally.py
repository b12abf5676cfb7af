"""Tally ``FORM_RESPONSE`` webhooks.

Signature: ``Tally-Signature: <base64 HMAC-SHA256(secret, body)>``, no prefix. Tally's own
example computes it on ``JSON.stringify(payload)``, i.e. the re-serialised JSON, not the raw
bytes; Tally sends that very compact serialisation, so both are the same in practice. We
accept a signature of the raw bytes, and otherwise of the compact re-serialisation (keys in
received order, no spaces, non-ASCII kept), which is what ``JSON.stringify`` produces for
payloads without fractional numbers. Nothing else is accepted.

Choice fields (MULTIPLE_CHOICE, DROPDOWN, CHECKBOXES, MULTI_SELECT, RANKING) carry option
ids; they are translated to the labels listed in the field's ``options``. RATING,
LINEAR_SCALE and INPUT_NUMBER are numbers. Hidden fields are mapped by their name (label).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    header,
    hmac_b64,
    matches_any,
    object_at,
    plain,
    text_field,
    timestamp,
)
from boucle_collector.domain.response_mapping import PlatformResponse, RawField, Value

PLATFORM = "tally"
CHOICE_TYPES = frozenset({"MULTIPLE_CHOICE", "DROPDOWN", "CHECKBOXES", "MULTI_SELECT", "RANKING"})


def sign(secret: str, body: bytes) -> str:
    return hmac_b64(secret.encode(), body)


def _reserialised(body: bytes) -> bytes | None:
    try:
        return json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        return None


def verify(delivery: Delivery, secrets: tuple[str, ...]) -> None:
    body, headers = delivery.body, delivery.headers
    signature = header(headers, "Tally-Signature")
    candidates = [body]
    reserialised = _reserialised(body)
    if reserialised is not None and reserialised != body:
        candidates.append(reserialised)
    expected = [sign(secret, message) for secret in secrets for message in candidates]
    if not matches_any(signature, expected):
        raise SignatureError("Tally-Signature does not match any secret of the integration")


def _value(item: Mapping[str, Any], path: str) -> Value:
    kind, value = item.get("type"), item.get("value")
    if kind in CHOICE_TYPES and value is not None and not isinstance(value, bool):
        options = {
            o.get("id"): o.get("text") for o in item.get("options") or [] if isinstance(o, Mapping)
        }
        ids = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str | int) for i in ids):
            raise PayloadError(f"{path}.value must list option ids")
        return tuple(str(options.get(i) or i) for i in ids)
    if kind == "FILE_UPLOAD" and isinstance(value, list):
        return tuple(str(f.get("url")) for f in value if isinstance(f, Mapping))
    return plain(value)


def parse(document: Mapping[str, Any]) -> PlatformResponse | None:
    if document.get("eventType") != "FORM_RESPONSE":
        return None
    data = object_at(document, "data")
    fields: list[RawField] = []
    for index, item in enumerate(data.get("fields") or []):
        path = f"data.fields[{index}]"
        if not isinstance(item, Mapping):
            raise PayloadError(f"{path} must be an object")
        if item.get("type") == "CHECKBOXES" and isinstance(item.get("value"), bool):
            continue  # per-option echo of a CHECKBOXES field, whose list value we keep
        label = item.get("label")
        hidden = item.get("type") == "HIDDEN_FIELDS" and isinstance(label, str)
        fields.append(
            RawField(
                question_id=text_field(item, "key"),
                value=_value(item, path),
                label=label if isinstance(label, str) else None,
                aliases=(label,) if hidden and isinstance(label, str) else (),
            )
        )
    return PlatformResponse(
        platform=PLATFORM,
        form_id=text_field(data, "formId"),
        response_id=text_field(data, "responseId"),
        submitted_at=timestamp(data, "createdAt"),
        fields=tuple(fields),
    )
