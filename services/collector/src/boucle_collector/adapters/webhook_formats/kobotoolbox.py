"""KoboToolbox REST Services: each submission POSTed as JSON, protected by HTTP basic auth.

KoboToolbox signs nothing; its REST Service can send ``Authorization: Basic`` with a user
and password configured on the service. The integration's secret is ``user:password``
(several while rotating), compared in constant time. The submission is the flat JSON of the
form: question paths (``group/question``) to string values, plus ``_uuid``,
``_xform_id_string`` (the form), ``_submission_time`` (UTC, without zone) and other ``_``
meta fields, which are not answers. A question is mapped by its full path or its name.
Multiple choices arrive as space-separated choice names: map them with ``"multiple": true``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    header,
    matches_any,
    plain,
    text_field,
)
from boucle_collector.domain.response_mapping import PlatformResponse, RawField

PLATFORM = "kobotoolbox"
META = frozenset({"start", "end", "today", "deviceid", "username", "simserial", "phonenumber"})


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def verify(delivery: Delivery, secrets: tuple[str, ...]) -> None:
    authorization = header(delivery.headers, "Authorization")
    if not authorization.startswith("Basic "):
        raise SignatureError("header Authorization must be Basic credentials")
    try:
        base64.b64decode(authorization.removeprefix("Basic "), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("header Authorization is not valid base64") from exc
    if not matches_any(authorization, [basic(secret) for secret in secrets]):
        raise SignatureError("Authorization does not match the integration's credentials")


def _submitted_at(document: Mapping[str, Any]) -> datetime:
    raw = text_field(document, "_submission_time")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(f"field _submission_time is not a date-time: {raw!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # Kobo stores UTC


def _is_answer(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return not key.startswith(("_", "meta/", "formhub/")) and name not in META and key != name + "/"


def parse(document: Mapping[str, Any]) -> PlatformResponse | None:
    response_id = document.get("_uuid") or str(document.get("meta/instanceID", "")).removeprefix(
        "uuid:"
    )
    if not response_id:
        raise PayloadError("field _uuid is missing")
    fields = tuple(
        RawField(
            question_id=key,
            value=plain(value),
            aliases=(key.rsplit("/", 1)[-1],) if "/" in key else (),
        )
        for key, value in document.items()
        if _is_answer(key)
    )
    return PlatformResponse(
        platform=PLATFORM,
        form_id=text_field(document, "_xform_id_string"),
        response_id=str(response_id),
        submitted_at=_submitted_at(document),
        fields=fields,
    )
