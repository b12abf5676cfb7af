"""Formbricks webhooks, signed the Standard Webhooks way.

Headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(``v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>``), secrets prefixed ``whsec_``;
verified by the ``standardwebhooks`` library, which also refuses a timestamp more than five
minutes away from now: a captured delivery cannot be replayed later, and one replayed
within the window carries the same response id, hence the same event id (a duplicate).
Only ``responseFinished`` carries a complete response; other events are acknowledged and
ignored. Answers are ``data.data``: question id -> value (text, number, list of labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    object_at,
    plain,
    text_field,
    timestamp,
)
from boucle_collector.domain.response_mapping import PlatformResponse, RawField

PLATFORM = "formbricks"
FINISHED = "responseFinished"


def verify(delivery: Delivery, secrets: tuple[str, ...]) -> None:
    body, headers = delivery.body, delivery.headers
    wanted = {"webhook-id", "webhook-timestamp", "webhook-signature"}
    present = {name: value for name, value in headers.items() if name in wanted}
    missing = sorted(wanted - set(present))
    if missing:
        raise SignatureError(f"header {', '.join(missing)} is missing")
    reasons: list[str] = []
    for secret in secrets:
        try:
            Webhook(secret).verify(body, present, json_parse=False)
            return
        except (WebhookVerificationError, ValueError) as exc:  # ValueError: malformed header
            reasons.append(str(exc) or type(exc).__name__)
    # The timestamp check does not depend on the secret: say so when it failed.
    reason = next((r for r in reasons if "timestamp" in r.lower()), "no matching signature found")
    raise SignatureError(f"Standard Webhooks verification failed: {reason}")


def parse(document: Mapping[str, Any]) -> PlatformResponse | None:
    if document.get("event") != FINISHED:
        return None
    response = object_at(document, "data")
    answers = response.get("data")
    if not isinstance(answers, Mapping):
        raise PayloadError("field data.data must be an object of answers")
    language = response.get("language")
    return PlatformResponse(
        platform=PLATFORM,
        form_id=text_field(response, "surveyId"),
        response_id=text_field(response, "id"),
        submitted_at=timestamp(response, "updatedAt" if response.get("updatedAt") else "createdAt"),
        fields=tuple(
            RawField(question_id=str(key), value=plain(value)) for key, value in answers.items()
        ),
        language=language if isinstance(language, str) and len(language) == 2 else None,
    )
