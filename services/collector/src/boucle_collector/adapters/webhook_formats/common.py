"""What every webhook adapter shares: errors, HMAC comparison, payload helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boucle_collector.domain.response_mapping import Value


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request as received: raw body, lower-cased headers, query parameters."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)


class SignatureError(Exception):
    """The delivery is not signed by a secret of the integration (answered 401)."""


class PayloadError(ValueError):
    """The payload is not what the platform documents (answered 422, naming the field)."""


def hmac_b64(key: bytes, message: bytes, digest: Callable[[], Any] = hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(key, message, digest).digest()).decode()


def matches_any(signature: str, expected: list[str]) -> bool:
    """Constant-time comparison against every candidate (all compared, no early exit)."""
    results = [hmac.compare_digest(signature.encode(), e.encode()) for e in expected]
    return any(results)


def header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower())
    if not value:
        raise SignatureError(f"header {name} is missing")
    return value.strip()


def json_document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PayloadError("body must be a JSON object")
    return document


def at(document: Mapping[str, Any], path: str) -> Any:
    """``document[a][b]…`` for ``path`` "a.b…", or PayloadError naming the missing part."""
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or current.get(part) is None:
            raise PayloadError(f"field {path} is missing")
        current = current[part]
    return current


def object_at(document: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """``at(document, path)``, which must be a JSON object (else PayloadError naming it)."""
    value = at(document, path)
    if not isinstance(value, Mapping):
        raise PayloadError(f"field {path} must be an object")
    return value


def text_field(document: Mapping[str, Any], path: str) -> str:
    value = at(document, path)
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise PayloadError(f"field {path} must be a non-empty string")
    return str(value)


def timestamp(document: Mapping[str, Any], path: str) -> datetime:
    raw = text_field(document, path)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(f"field {path} is not an ISO 8601 date-time: {raw!r}") from exc
    if moment.tzinfo is None:
        raise PayloadError(f"field {path} has no time zone: {raw!r}")
    return moment


def plain(value: Any) -> Value:
    """A JSON value as a mapping value: scalars kept, lists of scalars as labels, rest as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
