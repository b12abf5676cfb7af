"""Property-based fuzzing of the collector's webhook adapters: no 5xx, every 4xx says why.

Bodies are signed with the right secret, so the fuzzing reaches the parsers and mappers
behind the signature check, where a crash would be a 500. Every platform is covered:
Typeform, Tally, KoboToolbox, and SurveyMonkey (its callback, and the response document its
API answers, served by a fake API on 127.0.0.1), Formbricks (Standard Webhooks signature)
and Jotform (multipart, URL token). And whatever the body, a delivery without the right
signature is refused and publishes nothing.
"""

from __future__ import annotations

import base64
import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from boucle_collector.adapters.webhook_formats import surveymonkey, tally, typeform
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    Collector,
    build_collector,
)
from tests.unit.collector.test_collector_webhooks_formbricks import (
    payload as formbricks_payload,
)
from tests.unit.collector.test_collector_webhooks_kobo_jotform import jotform_fields
from tests.unit.collector.test_collector_webhooks_surveymonkey import CALLBACK, DETAILS
from tests.unit.collector.test_collector_webhooks_typeform import payload

pytestmark = pytest.mark.unit

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Signer = Callable[[bytes], dict[str, str]]


def formbricks_headers(body: bytes) -> dict[str, str]:
    message_id, now = "msg_fuzz", datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRETS["FB_SECRET"]).sign(
            message_id, now, body.decode("utf-8", "replace")
        ),
    }


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
    "surveymonkey": (
        "/v1/webhooks/surveymonkey/sm-lyon",
        lambda body: {
            "Sm-Apikey": "sm-api-key",
            "Sm-Signature": surveymonkey.sign(SECRETS["SM_SECRET"], body),
        },
    ),
    "formbricks": ("/v1/webhooks/formbricks/fb-lyon", formbricks_headers),
    "jotform": (
        f"/v1/webhooks/jotform/jotform-lyon?token={SECRETS['JOTFORM_TOKEN']}",
        lambda _: {},
    ),
}
# What a prober sends: a signature, but not one made with the integration's secret.
FORGED: dict[str, Signer] = {
    "typeform": lambda body: {"Typeform-Signature": typeform.sign("guess", body)},
    "tally": lambda body: {"Tally-Signature": tally.sign("guess", body)},
    "kobotoolbox": lambda _: {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
    "surveymonkey": lambda body: {
        "Sm-Apikey": "sm-api-key",
        "Sm-Signature": surveymonkey.sign("sm-api-key&guess", body),
    },
    "formbricks": lambda body: {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
        "webhook-signature": Webhook("whsec_" + base64.b64encode(b"g" * 24).decode()).sign(
            "msg_1", datetime.now(UTC), body.decode("utf-8", "replace")
        ),
    },
    "jotform": lambda _: {},
}


class FakeSurveyMonkeyApi:
    """SurveyMonkey's v3 API on 127.0.0.1, answering whatever document a test sets."""

    def __init__(self) -> None:
        self.document: Any = DETAILS
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(fake.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def surveymonkey_api() -> Iterator[FakeSurveyMonkeyApi]:
    api = FakeSurveyMonkeyApi()
    yield api
    api.close()


@pytest.fixture(scope="module")
def collector(surveymonkey_api: FakeSurveyMonkeyApi) -> Iterator[Collector]:
    with tempfile.TemporaryDirectory() as folder:
        yield build_collector(
            Path(folder),
            API_INTEGRATIONS + WEBHOOK_INTEGRATIONS,
            rate_limit_per_second=1e6,
            rate_limit_burst=1_000_000,
            bad_signature_burst=1_000_000,  # the forged deliveries must reach the verifier
            surveymonkey_base_url=surveymonkey_api.url,
            upstream_timeout_seconds=5.0,
        )


def assert_answered_properly(
    collector: Collector,
    platform: str,
    body: bytes,
    content_type: str = "application/json",
) -> None:
    url, sign = PLATFORMS[platform]
    headers = {"content-type": content_type, **sign(body)}
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


# --- SurveyMonkey, Formbricks, Jotform: their own documents fuzzed -----------------------


@FUZZ
@given(
    field=st.sampled_from(["event_type", "object_type", "object_id", "resources"]),
    value=JSON,
)
def test_a_surveymonkey_callback_with_any_field_replaced_gets_no_5xx(
    collector: Collector, field: str, value: Any
) -> None:
    document = json.loads(CALLBACK)
    document[field] = value
    assert_answered_properly(collector, "surveymonkey", json.dumps(document).encode())


@FUZZ
@given(
    field=st.sampled_from(
        ["id", "survey_id", "response_status", "date_created", "date_modified", "pages"]
    ),
    value=JSON,
    question=JSON,
)
def test_a_surveymonkey_response_document_of_any_shape_gets_no_5xx(
    collector: Collector,
    surveymonkey_api: FakeSurveyMonkeyApi,
    field: str,
    value: Any,
    question: Any,
) -> None:
    """The response fetched from SurveyMonkey's API is input too: an object of any shape
    gets a 4xx, not a crash (only a non-object answer is taken for an API failure, 503)."""
    document = json.loads(json.dumps(DETAILS))
    document["pages"][0]["questions"].append(question)
    surveymonkey_api.document = document
    try:
        assert_answered_properly(collector, "surveymonkey", CALLBACK)
        document[field] = value
        assert_answered_properly(collector, "surveymonkey", CALLBACK)
    finally:
        surveymonkey_api.document = DETAILS


@FUZZ
@given(
    field=st.sampled_from(["event", "data"]),
    value=JSON,
    inner=st.sampled_from(["id", "surveyId", "createdAt", "updatedAt", "data", "language"]),
    inner_value=JSON,
)
def test_a_formbricks_delivery_with_any_field_replaced_gets_no_5xx(
    collector: Collector, field: str, value: Any, inner: str, inner_value: Any
) -> None:
    document = formbricks_payload(response_id=f"fuzz-{inner}")
    document["data"][inner] = inner_value
    assert_answered_properly(collector, "formbricks", json.dumps(document).encode())
    document[field] = value
    assert_answered_properly(collector, "formbricks", json.dumps(document).encode())


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")
    return body, f"multipart/form-data; boundary={boundary}"


@FUZZ
@given(
    field=st.sampled_from(["formID", "submissionID", "rawRequest"]),
    value=st.text(max_size=40),
    raw_key=st.sampled_from(["q5_noteGlobale", "q3_name", "q8_points", "submitDate", "q1_x"]),
    raw_value=JSON,
)
def test_a_jotform_submission_with_any_field_replaced_gets_no_5xx(
    collector: Collector, field: str, value: str, raw_key: str, raw_value: Any
) -> None:
    fields = jotform_fields(submission_id=f"fuzz-{raw_key}")
    raw = json.loads(fields["rawRequest"]) | {raw_key: raw_value}
    fields["rawRequest"] = json.dumps(raw)
    assert_answered_properly(collector, "jotform", *_multipart(fields))
    fields[field] = value.replace("\r", "").replace("\n", "")
    assert_answered_properly(collector, "jotform", *_multipart(fields))


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_jotform_body_gets_no_5xx(collector: Collector, body: bytes) -> None:
    for content_type in ("multipart/form-data; boundary=x", "application/x-www-form-urlencoded"):
        assert_answered_properly(collector, "jotform", body, content_type)


@FUZZ
@given(
    platform=st.sampled_from(sorted(FORGED)),
    document=JSON,
    body=st.binary(max_size=200),
    unsigned=st.booleans(),
)
def test_without_the_right_signature_nothing_is_published(
    collector: Collector, platform: str, document: Any, body: bytes, unsigned: bool
) -> None:
    """Any body, forged or missing signature: 401, and nothing reaches the topic."""
    url = PLATFORMS[platform][0].split("?")[0]
    if platform == "jotform" and not unsigned:
        url += "?token=guess"
    published = len(collector.sink.events)
    for content in (json.dumps(document).encode(), body):
        headers = {} if unsigned else FORGED[platform](content)
        reply = collector.client.post(
            url, content=content, headers={"content-type": "application/json", **headers}
        )
        assert reply.status_code == 401, (platform, content, reply.text)
        assert reply.json()["detail"]
    valid = json.dumps(payload(token="forged")).encode()  # a valid response, forged signature
    headers = {} if unsigned else FORGED[platform](valid)
    reply = collector.client.post(url, content=valid, headers=headers)
    assert reply.status_code == 401, (platform, reply.text)
    assert len(collector.sink.events) == published
