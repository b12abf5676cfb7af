"""Typeform ``form_response`` webhooks.

Signature: ``Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, raw body)>``, checked on
the raw bytes as received. Answers are read by their ``type`` (text, email, url, file_url,
date, phone_number, number, boolean, choice, choices); a question is mapped by its field id
or its ``ref``. Hidden fields become fields named after their key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    at,
    header,
    hmac_b64,
    matches_any,
    plain,
    text_field,
    timestamp,
)
from boucle_collector.domain.response_mapping import PlatformResponse, RawField, Value

PLATFORM = "typeform"
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac_b64(secret.encode(), body)


def verify(delivery: Delivery, secrets: tuple[str, ...]) -> None:
    body, headers = delivery.body, delivery.headers
    signature = header(headers, "Typeform-Signature")
    if not signature.startswith(PREFIX):
        raise SignatureError("header Typeform-Signature must start with sha256=")
    if not matches_any(signature, [sign(secret, body) for secret in secrets]):
        raise SignatureError("Typeform-Signature does not match any secret of the integration")


def _value(answer: Mapping[str, Any]) -> Value:
    kind = answer.get("type")
    if kind == "choice":
        choice = answer.get("choice") or {}
        label = choice.get("label") or choice.get("other")
        return (str(label),) if label else None
    if kind == "choices":
        choices = answer.get("choices") or {}
        labels = [*choices.get("labels", []), *([choices["other"]] if choices.get("other") else [])]
        return tuple(str(label) for label in labels)
    if not isinstance(kind, str) or kind not in answer:
        raise PayloadError(f"answer of type {kind!r} has no {kind!r} value")
    return plain(answer[kind])


def _object(value: Any, where: str) -> Mapping[str, Any]:
    """An optional JSON object: absent or empty is {}, any other non-object is a 4xx."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"field {where} must be an object")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if not value:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"field {where} must be an array")
    return value


def parse(document: Mapping[str, Any]) -> PlatformResponse | None:
    if document.get("event_type") != "form_response":
        return None
    response = _object(at(document, "form_response"), "form_response")
    definition = _object(response.get("definition"), "form_response.definition")
    labels = {
        f.get("id"): f.get("title")
        for f in _array(definition.get("fields"), "form_response.definition.fields")
        if isinstance(f, Mapping)
    }
    fields: list[RawField] = []
    for index, answer in enumerate(_array(response.get("answers"), "form_response.answers")):
        if not isinstance(answer, Mapping):
            raise PayloadError(f"form_response.answers[{index}] must be an object")
        question_id = text_field(answer, "field.id")
        ref = _object(answer.get("field"), f"form_response.answers[{index}].field").get("ref")
        fields.append(
            RawField(
                question_id=question_id,
                value=_value(answer),
                label=labels.get(question_id),
                aliases=(str(ref),) if ref else (),
            )
        )
    for key, value in _object(response.get("hidden"), "form_response.hidden").items():
        fields.append(RawField(question_id=str(key), value=plain(value)))
    return PlatformResponse(
        platform=PLATFORM,
        form_id=text_field(response, "form_id"),
        response_id=text_field(response, "token"),
        submitted_at=timestamp(response, "submitted_at"),
        fields=tuple(fields),
    )
