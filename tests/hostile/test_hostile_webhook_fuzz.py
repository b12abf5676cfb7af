"""Property-based fuzzing of the collector's webhook adapters: no 5xx, every 4xx says why.

Bodies are signed with the right secret, so the fuzzing reaches the parsers and mappers
behind the signature check, where a crash would be a 500.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boucle_collector.adapters.webhooks import tally, typeform
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    Collector,
    build_collector,
)
from tests.unit.collector.test_collector_webhooks_typeform import payload

pytestmark = pytest.mark.unit

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Signer = Callable[[bytes], dict[str, str]]
PLATFORMS: dict[str, tuple[str, Signer]] = {
    "typeform": (
        "/v1/webhooks/typeform/tf-lyon",
        lambda body: {"Typeform-Signature": typeform.sign(SECRETS["TF_SECRET_NEW"], body)},
    ),
    "tally": (
        "/v1/webhooks/tally/tally-lyon",
        lambda body: {"Tally-Signature": tally.sign(SECRETS["TALLY_SECRET"], body)},
    ),
    "kobotoolbox": (
        "/v1/webhooks/kobotoolbox/kobo-lyon",
        lambda _: {
            "Authorization": "Basic "
            + base64.b64encode(SECRETS["KOBO_CREDENTIALS"].encode()).decode()
        },
    ),
}


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    with tempfile.TemporaryDirectory() as folder:
        yield build_collector(
            Path(folder),
            API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
            rate_limit_per_second=1e6,
            rate_limit_burst=1_000_000,
        )


def assert_answered_properly(collector: Collector, platform: str, body: bytes) -> None:
    url, sign = PLATFORMS[platform]
    headers = {"content-type": "application/json", **sign(body)}
    reply = collector.client.post(url, content=body, headers=headers)
    assert reply.status_code < 500, (platform, body, reply.text)
    if reply.status_code >= 400:
        detail = reply.json().get("detail")
        assert detail, (platform, body, reply.text)  # says why, not just a code


@FUZZ
@given(platform=st.sampled_from(sorted(PLATFORMS)), document=JSON)
def test_any_signed_json_gets_no_5xx_and_a_reason(
    collector: Collector, platform: str, document: Any
) -> None:
    assert_answered_properly(collector, platform, json.dumps(document).encode())


@FUZZ
@given(platform=st.sampled_from(sorted(PLATFORMS)), body=st.binary(max_size=200))
def test_any_signed_bytes_get_no_5xx_and_a_reason(
    collector: Collector, platform: str, body: bytes
) -> None:
    assert_answered_properly(collector, platform, body)


@FUZZ
@given(
    field=st.sampled_from(
        ["form_id", "token", "submitted_at", "hidden", "definition", "answers", "landed_at"]
    ),
    value=JSON,
    answer_field=st.sampled_from(["type", "number", "text", "choices", "field", "email"]),
    answer_value=JSON,
)
def test_a_typeform_response_with_any_field_replaced_gets_no_5xx(
    collector: Collector, field: str, value: Any, answer_field: str, answer_value: Any
) -> None:
    document = payload(token=f"fuzz-{field}")
    document["form_response"]["answers"][0][answer_field] = answer_value
    assert_answered_properly(collector, "typeform", json.dumps(document).encode())
    document["form_response"][field] = value
    assert_answered_properly(collector, "typeform", json.dumps(document).encode())


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("hidden",), True, "form_response.hidden"),
        (("definition",), "x", "form_response.definition"),
        (("answers",), 7, "form_response.answers"),
        (("answers", 0, "field"), "x", "field.id"),
    ],
)
def test_a_typeform_response_of_the_wrong_shape_is_refused_naming_the_field(
    collector: Collector, path: tuple[str | int, ...], value: Any, named: str
) -> None:
    """Found by the fuzzing above: these were 500s (AttributeError, TypeError)."""
    document = payload(token=f"shape-{named}")
    target: Any = document["form_response"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    body = json.dumps(document).encode()
    reply = collector.client.post(
        PLATFORMS["typeform"][0],
        content=body,
        headers={"content-type": "application/json", **PLATFORMS["typeform"][1](body)},
    )
    assert 400 <= reply.status_code < 500, reply.text
    assert named in reply.json()["detail"], reply.text
