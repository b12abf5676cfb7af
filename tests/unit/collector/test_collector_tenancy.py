"""API keys per integration, tenancy, the integrations file, body limits and rate limits."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from boucle_collector.adapters.integrations_file import (
    IntegrationsError,
    IntegrationsSource,
    parse_integrations,
)
from boucle_collector.domain.integrations import hash_key
from boucle_collector.metrics import CollectorMetrics
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    KEYS,
    SECRETS,
    Collector,
    MakeCollector,
    write_integrations,
)

pytestmark = pytest.mark.unit

URL = "/v1/networks/net-1/sites/site-a/survey-responses"
BODY = example_of(SurveyResponseSubmittedV1).data.model_dump(mode="json")


def _with(key: str) -> dict[str, str]:
    return {"X-Api-Key": key}


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS)


def test_a_valid_key_writes_for_its_site(collector: Collector) -> None:
    response = collector.client.post(URL, json=BODY, headers=_with(KEYS["lyon-1"]))

    assert response.status_code == 202, response.text
    assert len(collector.sink.events) == 1


def test_the_key_may_come_as_a_bearer_token(collector: Collector) -> None:
    headers = {"Authorization": f"Bearer {KEYS['lyon-2']}"}

    assert collector.client.post(URL, json=BODY, headers=headers).status_code == 202


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "API key missing"), (_with("not-a-key"), "API key unknown")],
    ids=["missing", "unknown"],
)
def test_without_a_known_key_the_answer_is_401(
    collector: Collector, headers: dict[str, str], message: str
) -> None:
    response = collector.client.post(URL, json=BODY, headers=headers)

    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert collector.sink.events == []
    assert collector.rejected("unauthenticated") == 1


def test_a_key_for_one_site_cannot_write_for_another(collector: Collector) -> None:
    other_site = "/v1/networks/net-1/sites/site-b/survey-responses"

    response = collector.client.post(other_site, json=BODY, headers=_with(KEYS["lyon-1"]))

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "API key lyon-1 of integration tms-lyon may write for sites site-a, not site-b"
    )
    assert collector.sink.events == []
    assert collector.rejected("forbidden") == 1


def test_a_key_of_one_network_cannot_write_for_another(collector: Collector) -> None:
    other_network = "/v1/networks/net-2/sites/site-a/survey-responses"

    response = collector.client.post(other_network, json=BODY, headers=_with(KEYS["network"]))

    assert response.status_code == 403
    assert "belongs to network net-1, not net-2" in response.json()["detail"]


def test_a_network_wide_key_writes_for_every_site_of_its_network(collector: Collector) -> None:
    for site in ("site-a", "site-b", "site-z"):
        url = f"/v1/networks/net-1/sites/{site}/complaints"
        body = example_of_complaint()
        assert (
            collector.client.post(url, json=body, headers=_with(KEYS["network"])).status_code == 202
        )
    assert {e.site_id for e in collector.sink.events} == {"site-a", "site-b", "site-z"}


def example_of_complaint() -> dict[str, Any]:
    from boucle_contracts.incidents.v1 import ComplaintReceivedV1

    body: dict[str, Any] = example_of(ComplaintReceivedV1).data.model_dump(mode="json")
    return body


def test_rotation_a_removed_key_stops_working_after_reload(collector: Collector) -> None:
    assert collector.integrations_file is not None
    rotated = copy.deepcopy(API_INTEGRATIONS)
    rotated[0]["api_keys"] = [k for k in rotated[0]["api_keys"] if k["id"] != "lyon-1"]
    write_integrations(collector.integrations_file, rotated)
    stat = collector.integrations_file.stat()
    os.utime(collector.integrations_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    assert collector.wiring.integrations.reload_if_changed()

    assert collector.client.post(URL, json=BODY, headers=_with(KEYS["lyon-1"])).status_code == 401
    assert collector.client.post(URL, json=BODY, headers=_with(KEYS["lyon-2"])).status_code == 202
    assert collector.sample("boucle_collector_integrations_reloads_total", outcome="loaded") == 2


def test_a_broken_file_at_reload_keeps_the_previous_configuration(collector: Collector) -> None:
    assert collector.integrations_file is not None
    collector.integrations_file.write_text('{"integrations": [{"id": "x"}]}', encoding="utf-8")

    assert not collector.wiring.integrations.reload_if_changed()
    assert not collector.wiring.integrations.reload_if_changed()  # reported once, not each poll

    assert collector.client.post(URL, json=BODY, headers=_with(KEYS["lyon-1"])).status_code == 202
    assert collector.sample("boucle_collector_integrations_reloads_total", outcome="invalid") == 1


def test_an_unchanged_file_is_not_reloaded(collector: Collector) -> None:
    assert not collector.wiring.integrations.reload_if_changed()


def _problems(document: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(IntegrationsError) as raised:
        parse_integrations(json.dumps(document), environ=environ or SECRETS)
    return str(raised.value)


def test_the_file_is_validated_with_every_problem_located() -> None:
    document = {
        "integrations": [
            {"id": "a", "platform": "api", "network_id": "n", "sites": ["s"]},
            {
                "id": "b",
                "platform": "typeform",
                "network_id": "n",
                "sites": ["s"],
                "secrets": [{"env": "TF_SECRET_NEW"}],
                "forms": {
                    "f": {
                        "site_id": "other",
                        "survey_kind": "hot",
                        "respondent_role": "learner",
                        "questions": {"q": {"role": "answer"}},
                    }
                },
            },
        ]
    }

    problems = _problems(document)

    assert "integrations.0: Value error, an api integration needs at least one api key" in problems
    assert "integrations.1.forms.f.questions.q: Value error, answer_type" in problems


def test_keys_are_stored_as_hashes_never_in_clear() -> None:
    document = {
        "integrations": [
            {
                "id": "a",
                "platform": "api",
                "network_id": "n",
                "sites": ["s"],
                "api_keys": [{"id": "k", "sha256": "key-in-clear"}],
            }
        ]
    }

    assert "integrations.0.api_keys.0.sha256: String should match pattern" in _problems(document)


def test_one_key_hash_cannot_serve_two_integrations() -> None:
    twice = copy.deepcopy(API_INTEGRATIONS)
    twice[1]["api_keys"] = twice[0]["api_keys"][:1]

    assert "an api key hash appears twice" in _problems({"integrations": twice})


def test_a_secret_missing_from_the_environment_is_named() -> None:
    document = {
        "integrations": [
            {
                "id": "tally-1",
                "platform": "tally",
                "network_id": "n",
                "sites": ["s"],
                "secrets": [{"env": "NOT_SET_ANYWHERE"}],
                "forms": {
                    "f": {
                        "site_id": "s",
                        "survey_kind": "hot",
                        "respondent_role": "learner",
                        "questions": {"q": {"answer_type": "text"}},
                    }
                },
            }
        ]
    }

    problems = _problems(document)

    assert (
        "integrations.0 (tally-1).secrets.0: environment variable NOT_SET_ANYWHERE is not set"
        in (problems)
    )


def test_a_missing_file_stops_the_start(tmp_path: Path) -> None:
    source = IntegrationsSource(
        tmp_path / "absent.json", metrics=CollectorMetrics(CollectorRegistry())
    )

    with pytest.raises(IntegrationsError, match=r"absent\.json"):
        source.load()


def test_hash_key_is_the_hex_sha256_of_the_key() -> None:
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# --- body size and rate limits -------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413(make_collector: MakeCollector) -> None:
    collector = make_collector(integrations=None, max_body_bytes=2048)
    body = BODY | {"comments": [{"comment_id": "c", "text": "x" * 5000}]}

    response = collector.client.post(URL, json=body)

    assert response.status_code == 413
    assert response.json() == {"detail": "body larger than 2048 bytes"}
    assert collector.sink.events == []
    assert collector.rejected("body_too_large") == 1


def test_a_chunked_body_over_the_limit_is_refused_too(make_collector: MakeCollector) -> None:
    collector = make_collector(integrations=None, max_body_bytes=2048)

    def chunks() -> Any:
        yield b'{"survey_id": "'
        yield b"x" * 4096
        yield b'"}'

    response = collector.client.post(
        URL, content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


def test_each_key_has_its_rate_limit(make_collector: MakeCollector) -> None:
    collector = make_collector(
        integrations=API_INTEGRATIONS, rate_limit_per_second=0.01, rate_limit_burst=2
    )
    lyon = [collector.client.post(URL, json=BODY, headers=_with(KEYS["lyon-1"])) for _ in range(3)]
    other_key = collector.client.post(URL, json=BODY, headers=_with(KEYS["network"]))

    assert [r.status_code for r in lyon] == [202, 200, 429]
    assert int(lyon[2].headers["Retry-After"]) >= 1
    assert "rate limit of tms-lyon/lyon-1 reached" in lyon[2].json()["detail"]
    assert other_key.status_code == 200  # its own bucket; a duplicate of the accepted response
    assert collector.rejected("rate_limited") == 1


def test_request_latency_is_measured_by_channel_and_status(collector: Collector) -> None:
    collector.client.post(URL, json=BODY, headers=_with(KEYS["lyon-1"]))
    collector.client.post(URL, json=BODY)

    assert (
        collector.sample("boucle_collector_request_seconds_count", channel="api", status="202") == 1
    )
    assert (
        collector.sample("boucle_collector_request_seconds_count", channel="api", status="401") == 1
    )


def test_integration_ids_are_unique() -> None:
    twice = [API_INTEGRATIONS[0], {**API_INTEGRATIONS[1], "id": API_INTEGRATIONS[0]["id"]}]

    assert "integration ids must be unique: ['tms-lyon']" in _problems({"integrations": twice})


def test_the_readme_example_is_a_valid_integrations_file() -> None:
    readme = Path(__file__).resolve().parents[3] / "services" / "collector" / "README.md"
    example = readme.read_text(encoding="utf-8").split("```json\n", 1)[1].split("```", 1)[0]
    environ = {"TYPEFORM_SECRET_HORIZON": "s", "SM_KEY_AND_SECRET": "k&s", "SM_ACCESS_TOKEN": "t"}

    tenancy = parse_integrations(example, environ=environ)

    assert set(tenancy.integrations) == {"tms-lyon", "typeform-horizon", "sm-horizon"}


def _one_form_integration(platform: str, secrets: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": f"{platform}-1",
        "platform": platform,
        "network_id": "n",
        "sites": ["s"],
        "secrets": secrets,
        "forms": {
            "f": {
                "site_id": "s",
                "survey_kind": "hot",
                "respondent_role": "learner",
                "questions": {"q": {"answer_type": "text"}},
            }
        },
    }


def test_a_secret_file_is_read_and_its_rotation_reloads_without_restart(tmp_path: Path) -> None:
    secret = tmp_path / "tally.secret"
    secret.write_text("first-secret\n", encoding="utf-8")
    integration = _one_form_integration("tally", [{"file": str(secret)}])
    source = IntegrationsSource(
        write_integrations(tmp_path / "integrations.json", [integration]),
        metrics=CollectorMetrics(CollectorRegistry()),
        environ={},
    )
    source.load()
    assert source.current.secrets["tally-1"] == ("first-secret",)

    secret.write_text("second-secret-longer\n", encoding="utf-8")

    assert source.reload_if_changed()
    assert source.current.secrets["tally-1"] == ("second-secret-longer",)


@pytest.mark.parametrize("ref", [{}, {"env": "A", "file": "/x"}], ids=["none", "both"])
def test_a_secret_reference_names_one_source(ref: dict[str, str]) -> None:
    document = {"integrations": [_one_form_integration("typeform", [ref])]}

    assert "a secret reference names exactly one of env or file" in _problems(document)
