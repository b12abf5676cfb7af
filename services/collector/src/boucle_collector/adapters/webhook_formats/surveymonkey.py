"""SurveyMonkey webhooks: id-only callbacks, the response fetched from the v3 API.

The subscription URL answers ``HEAD`` with 200 (SurveyMonkey checks it when the webhook is
created). A callback (``response_completed``) names the survey and the response; it carries
``Sm-Apikey`` (the app's API key) and ``Sm-Signature``: base64 HMAC-SHA1 of the raw body
with the key ``"<api_key>&<api_secret>"``. The integration's secret is that very string,
``api_key&api_secret``; several may be active while rotating.

The response is then fetched from ``{base_url}/v3/surveys/{survey}/responses/{id}/details``
with ``simple=true`` (answers then carry ``simple_text``, their label) and the integration's
access token. Matrix rows become fields ``<question id>.<row id>``. A 404 means the response
cannot be had (422); network errors, 5xx, 429, 401/403 are treated as transient (503), so
SurveyMonkey retries while the operator fixes the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx

from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    header,
    hmac_b64,
    matches_any,
    text_field,
    timestamp,
)
from boucle_collector.domain.response_mapping import PlatformResponse, RawField

PLATFORM = "surveymonkey"
COMPLETED = "response_completed"


class UpstreamUnavailableError(RuntimeError):
    """SurveyMonkey's API did not give the response now; the callback should be retried."""


class UpstreamNotFoundError(ValueError):
    """SurveyMonkey's API says the response does not exist (or is not ours)."""


def sign(secret: str, body: bytes) -> str:
    return hmac_b64(secret.encode(), body, hashlib.sha1)


def verify(delivery: Delivery, secrets: tuple[str, ...]) -> None:
    body, headers = delivery.body, delivery.headers
    api_key = header(headers, "Sm-Apikey")
    signature = header(headers, "Sm-Signature")
    # Every secret is tried, the key compared in constant time, and one message for both
    # failures: which of the key or the signature is wrong would tell a prober too much.
    key = api_key.encode()
    expected = [
        sign(secret, body) if hmac.compare_digest(secret.partition("&")[0].encode(), key) else ""
        for secret in secrets
    ]
    if not matches_any(signature, [e for e in expected if e]) or not any(expected):
        raise SignatureError(
            "Sm-Signature does not match the integration's api_key&api_secret, "
            "or Sm-Apikey is not the API key of its app"
        )


def callback_ids(document: Mapping[str, Any]) -> tuple[str, str] | None:
    """(survey id, response id) of a ``response_completed`` callback; None for other events."""
    if document.get("event_type") != COMPLETED:
        return None
    if document.get("object_type") not in (None, "response"):
        return None
    return text_field(document, "resources.survey_id"), text_field(document, "object_id")


class SurveyMonkeyClient:
    """Fetches response details from the v3 API (base URL configurable, for tests and EU)."""

    def __init__(self, *, base_url: str, timeout_seconds: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds

    async def details(self, *, survey_id: str, response_id: str, token: str) -> dict[str, Any]:
        url = f"{self._base_url}/v3/surveys/{survey_id}/responses/{response_id}/details"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                reply = await http.get(
                    url, params={"simple": "true"}, headers={"Authorization": f"Bearer {token}"}
                )
        except httpx.HTTPError as exc:
            raise UpstreamUnavailableError(f"SurveyMonkey API unreachable: {exc!r}") from exc
        if reply.status_code == 404:
            raise UpstreamNotFoundError(f"SurveyMonkey has no response {response_id}")
        if reply.status_code != 200:
            raise UpstreamUnavailableError(f"SurveyMonkey API answered {reply.status_code}")
        try:
            document = reply.json()
        except ValueError as exc:
            raise UpstreamUnavailableError("SurveyMonkey API answered something not JSON") from exc
        if not isinstance(document, dict):
            raise UpstreamUnavailableError("SurveyMonkey API answered something not an object")
        return document


def _answer_label(answer: Mapping[str, Any]) -> str | None:
    for key in ("simple_text", "text", "choice_id"):
        value = answer.get(key)
        if isinstance(value, str | int) and str(value) != "":
            return str(value)
    return None


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    """An optional array of objects: absent is empty, any other shape a 4xx naming it."""
    if not value:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise PayloadError(f"field {where} must be an array of objects")
    return value


def parse_details(details: Mapping[str, Any]) -> PlatformResponse | None:
    """The fetched response as fields; None while it is not completed."""
    if details.get("response_status", "completed") != "completed":
        return None
    fields: list[RawField] = []
    for page in _objects(details.get("pages"), "pages"):
        for question in _objects(page.get("questions"), "pages[].questions"):
            question_id = text_field(question, "id")
            answers = _objects(question.get("answers"), f"question {question_id} answers")
            rows: dict[str, list[str]] = {}
            for answer in answers:
                label = _answer_label(answer)
                if label is None:
                    continue
                row = answer.get("row_id")
                rows.setdefault(f"{question_id}.{row}" if row else question_id, []).append(label)
            for name, labels in rows.items():
                texts = [a for a in answers if "choice_id" not in a]
                value = labels[0] if len(labels) == 1 and texts else tuple(labels)
                fields.append(RawField(question_id=name, value=value))
    return PlatformResponse(
        platform=PLATFORM,
        form_id=text_field(details, "survey_id"),
        response_id=text_field(details, "id"),
        submitted_at=timestamp(details, "date_modified")
        if details.get("date_modified")
        else timestamp(details, "date_created"),
        fields=tuple(fields),
    )
