"""Jotform webhooks: ``multipart/form-data`` with the answers as JSON in ``rawRequest``.

Jotform signs nothing and cannot send custom headers, so the webhook URL carries a secret
token: ``/v1/webhooks/jotform/<integration>?token=<secret>``, compared in constant time with
the integration's secrets (several while rotating). Keep that URL as secret as a password.
Fields ``formID`` and ``submissionID`` identify the response; ``rawRequest`` maps question
keys ``q<n>_<name>`` to values (text, lists of labels, ``{"first", "last"}`` names…). A
question is mapped by its key, its name or its number. The submission time is
``submitDate`` (epoch milliseconds) when present, else the time of receipt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    matches_any,
    plain,
    text_field,
)
from boucle_collector.domain.response_mapping import PlatformResponse, RawField, Value

PLATFORM = "jotform"
FORM_ENCODED = True  # the body is multipart/form-data, not JSON
QUESTION = re.compile(r"^q(\d+)_(.+)$")


def verify(delivery: Delivery, secrets: tuple[str, ...]) -> None:
    token = delivery.query.get("token", "")
    if not token:
        raise SignatureError("query parameter token is missing")
    if not matches_any(token, list(secrets)):
        raise SignatureError("token does not match the integration's secrets")


def _value(value: Any) -> Value:
    if isinstance(value, Mapping) and {"first", "last"} & set(value):
        return " ".join(str(value.get(k, "")) for k in ("first", "last")).strip() or None
    return plain(value)


def _submitted_at(raw: Mapping[str, Any]) -> datetime:
    stamp = raw.get("submitDate")
    if isinstance(stamp, str | int) and str(stamp).isdigit():
        return datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)
    return datetime.now(UTC)


def parse(document: Mapping[str, Any]) -> PlatformResponse | None:
    try:
        raw = json.loads(text_field(document, "rawRequest"))
    except ValueError as exc:
        raise PayloadError(f"field rawRequest is not JSON: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise PayloadError("field rawRequest must be a JSON object")
    fields: list[RawField] = []
    for key, value in raw.items():
        match = QUESTION.match(key)
        if match:
            number, name = match.groups()
            fields.append(RawField(question_id=key, value=_value(value), aliases=(name, number)))
    return PlatformResponse(
        platform=PLATFORM,
        form_id=text_field(document, "formID"),
        response_id=text_field(document, "submissionID"),
        submitted_at=_submitted_at(raw),
        fields=tuple(fields),
    )
