"""Property-based fuzzing of every HTTP API from its committed OpenAPI document (schemathesis).

Each service is built by its own ``create_app(settings)`` against the real Kafka broker and
MongoDB wire-protocol server (topics and databases unique to this run) and reached in-process
through schemathesis' ASGI transport, which also runs the app's lifespan (topics, indexes,
consumers). Callers hold valid credentials for network ``net-1`` (an API key that may manage
mappings; a quality lead's JWT), so generated requests reach the handlers, not just the auth
gate. Every operation gets positive (schema-valid) and negative (schema-violating) cases:

* never a 5xx;
* a documented status answers with a body that conforms to its schema;
* schema-violating input is refused with a 4xx;
* every 4xx says why: a non-empty ``detail`` (or ``message``).

Deterministic (``derandomize``) and bounded: a few examples per operation and mode.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pymongo import MongoClient
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport import SerializationContext

from boucle_collector.domain.integrations import hash_key
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    PSEUDONYM_SECRET,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    write_integrations,
)
from tools.localstack import LocalIssuer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("collector", "analyzer", "actions", "reporter")
NETWORK = "net-1"
ADMIN_KEY = "key-fuzz-admin"
ISSUER = LocalIssuer()
# Mapping routes name an integration: a real one, so the fuzzing reaches the mapping store.
PINNED = {"network_id": NETWORK, "integration_id": "tf-lyon"}
RAW_BODIES = frozenset(
    {
        "application/x-ndjson",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 12}
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schemathesis.serializer("application/x-ndjson")
def ndjson(_: SerializationContext, value: Any) -> bytes:
    """Bulk bodies: a generated string as is; anything else one JSON document a line."""
    if isinstance(value, str | bytes):
        return value.encode() if isinstance(value, str) else value
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item) for item in items).encode()


@schemathesis.serializer("text/csv")
def csv_text(_: SerializationContext, value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def committed(service: str) -> OpenApiSchema:
    return schemathesis.openapi.from_path(ROOT / "services" / service / "openapi.json")


SCHEMAS = {service: committed(service) for service in SERVICES}


Operation = APIOperation[Any, Any, Any, Any]


def operations(service: str) -> list[Operation]:
    found: list[Operation] = []
    for result in SCHEMAS[service].get_all_operations():
        assert isinstance(result, Ok), f"{service}: the committed document does not load"
        found.append(result.ok())
    return found


def collector_app(run: str, kafka: str, mongodb_uri: str, folder: Path) -> FastAPI:
    from boucle_collector.app import create_app
    from boucle_collector.settings import CollectorSettings

    admin = {
        "id": "quality-admin",
        "platform": "api",
        "network_id": NETWORK,
        "sites": ["*"],
        "manage_mappings": True,
        "api_keys": [{"id": "admin", "sha256": hash_key(ADMIN_KEY)}],
    }
    integrations = write_integrations(
        folder / "integrations.json", [*API_INTEGRATIONS, *WEBHOOK_INTEGRATIONS, admin]
    )
    return create_app(
        CollectorSettings(
            _env_file=None,
            kafka_bootstrap_servers=kafka,
            topic_prefix=f"{run}.",
            mongodb_uri=mongodb_uri,
            mongodb_database=f"boucle_collector_{run}",
            integrations_file=integrations,
            allow_unauthenticated=False,
            pseudonymisation_secret=PSEUDONYM_SECRET,
            rate_limit_per_second=1e6,
            rate_limit_burst=1_000_000,
            # The fuzzing never reaches a real survey platform.
            surveymonkey_base_url="http://127.0.0.1:9",
            upstream_timeout_seconds=0.5,
        )
    )


def analyzer_app(run: str, kafka: str, mongodb_uri: str, _: Path) -> FastAPI:
    from boucle_analyzer.app import create_app
    from boucle_analyzer.settings import AnalyzerSettings

    return create_app(
        AnalyzerSettings(
            _env_file=None,
            kafka_bootstrap_servers=kafka,
            topic_prefix=f"{run}.",
            mongodb_uri=mongodb_uri,
            mongodb_database=f"boucle_analyzer_{run}",
            consumer_group=f"analyzer-{run}",
            auth_issuer=ISSUER.issuer,
            auth_audience=ISSUER.audience,
            auth_public_key=ISSUER.public_pem,
        )
    )


def actions_app(run: str, kafka: str, mongodb_uri: str, _: Path) -> FastAPI:
    from boucle_actions.app import create_app
    from boucle_actions.settings import ActionsSettings

    return create_app(
        ActionsSettings(
            _env_file=None,
            kafka_bootstrap_servers=kafka,
            topic_prefix=f"{run}.",
            mongodb_uri=mongodb_uri,
            mongodb_database=f"boucle_actions_{run}",
            consumer_group=f"actions-{run}",
            auth_issuer=ISSUER.issuer,
            auth_audience=ISSUER.audience,
            auth_public_key=ISSUER.public_pem,
        )
    )


def reporter_app(run: str, kafka: str, mongodb_uri: str, folder: Path) -> FastAPI:
    from boucle_reporter.app import create_app
    from boucle_reporter.settings import ReporterSettings

    return create_app(
        ReporterSettings(
            _env_file=None,
            kafka_bootstrap_servers=kafka,
            topic_prefix=f"{run}.",
            mongodb_uri=mongodb_uri,
            mongodb_database=f"boucle_reporter_{run}",
            consumer_group=f"reporter-{run}",
            builds_dir=folder / "builds",
            auth_issuer=ISSUER.issuer,
            auth_audience=ISSUER.audience,
            auth_public_key=ISSUER.public_pem,
        )
    )


BUILDERS: dict[str, Callable[[str, str, str, Path], FastAPI]] = {
    "collector": collector_app,
    "analyzer": analyzer_app,
    "actions": actions_app,
    "reporter": reporter_app,
}
BEARER = {"authorization": f"Bearer {ISSUER.token(network_id=NETWORK)}"}
HEADERS = {
    "collector": {"x-api-key": ADMIN_KEY},
    "analyzer": BEARER,
    "actions": BEARER,
    "reporter": BEARER,
}


@pytest.fixture
def run(mongodb_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A token naming this test's topics, groups and databases; the databases go afterwards."""
    token = f"t{uuid.uuid4().hex[:12]}"
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)  # the integrations file names its secrets by variable
    yield token
    asgi.shutdown_lifespans()  # idempotent; the schemathesis plugin also does it per test
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongodb_uri) as client:
        for service in SERVICES:
            client.drop_database(f"boucle_{service}_{token}")


def says_why(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    reason = body.get("detail") or body.get("message")
    return json.dumps(reason) if reason else ""


def checks_for(operation: Operation, mode: GenerationMode) -> list[CheckFunction]:
    checks = [not_a_server_error, response_schema_conformance]
    # A raw file or NDJSON body is bytes on the wire: a "non-string" negation of it (``false``)
    # is still a body the service must read, and it answers it line by line, not with a 4xx.
    raw_body = any(body.media_type in RAW_BODIES for body in operation.body)
    if mode is GenerationMode.NEGATIVE and not raw_body:
        checks.append(negative_data_rejection)
    return checks


def fuzz_operation(
    app: FastAPI, operation: Operation, headers: dict[str, str], mode: GenerationMode
) -> None:
    pinned = {name: value for name, value in PINNED.items() if f"{{{name}}}" in operation.path}
    if "/webhooks/" in operation.path:
        pinned = {}  # webhook routes: any platform and integration, fuzzed as they come
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters=pinned or None, headers=headers or None
    )

    @settings(FUZZ, max_examples=EXAMPLES[mode])
    @given(case=strategy)
    def answers_properly(case: Case[Any]) -> None:
        response = case.call(app=app)
        case.validate_response(response, checks=checks_for(operation, mode))
        if 400 <= response.status_code < 500 and case.method.upper() != "HEAD":
            assert says_why(response), f"{response.status_code} without a reason: {response.text}"

    answers_properly()


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_without_5xx_and_every_4xx_says_why(
    service: str, run: str, kafka_bootstrap: str, mongodb_uri: str, tmp_path: Path
) -> None:
    """One app for all the service's operations: the schemathesis pytest plugin ends an ASGI
    app's lifespan with the test that started it, and a stopped app cannot start again."""
    app = BUILDERS[service](run, kafka_bootstrap, mongodb_uri, tmp_path)
    failures: list[str] = []
    for operation in operations(service):
        for mode in EXAMPLES:
            try:
                fuzz_operation(app, operation, HEADERS[service], mode)
            except Unsatisfiable:
                continue  # nothing to negate: an operation without parameters or body
            except Exception as failure:  # every operation's failure is reported, not the first
                failures.append(f"--- {operation.label} ({mode.value}):\n{failure}")
    assert not failures, "\n".join(failures)
