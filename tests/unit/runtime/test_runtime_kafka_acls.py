"""Kafka ACLs: one principal per service, derived from the topic layout, file kept in sync."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from boucle_actions.settings import ActionsSettings
from boucle_analyzer.settings import AnalyzerSettings
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_reporter.settings import ReporterSettings
from boucle_runtime.kafka_acls import (
    ACL_FILE,
    SERVICE_ACCESS,
    STRIMZI_USERS_FILE,
    Acl,
    all_acls,
    main,
    render,
    render_strimzi_users,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
ACCESS = {access.service: access for access in SERVICE_ACCESS}
INPUTS = {"boucle.feedback.v1", "boucle.incidents.v1", "boucle.training.v1"}


def allowed(principal: str, operation: str, topic: str, acls: list[Acl]) -> bool:
    return Acl(principal, "TOPIC", topic, operation) in acls  # type: ignore[arg-type]


def test_the_committed_acl_file_is_generated_from_the_code(tmp_path: Path) -> None:
    assert ACL_FILE == ROOT / "deploy" / "kafka-acls" / "acls.txt"
    expected = render(all_acls())
    assert ACL_FILE.read_text(encoding="utf-8") == expected, (
        "deploy/kafka-acls/acls.txt is stale: run "
        "`.venv/bin/python -m boucle_runtime.kafka_acls export` and commit it"
    )
    assert STRIMZI_USERS_FILE.read_text(encoding="utf-8") == render_strimzi_users(), (
        "deploy/kubernetes/components/kafka-sasl-ssl/kafka-users.yaml is stale: run "
        "`.venv/bin/python -m boucle_runtime.kafka_acls export` and commit it"
    )
    out, users = tmp_path / "acls.txt", tmp_path / "users.yaml"
    assert main(["export", "--output", str(out), "--strimzi-output", str(users)]) == 0
    assert out.read_text(encoding="utf-8") == expected
    assert users.read_text(encoding="utf-8") == render_strimzi_users()


def test_strimzi_users_carry_the_same_acls() -> None:
    documents = [
        json.loads("{" + part.split("{", 1)[1]) for part in render_strimzi_users().split("\n---\n")
    ]
    found = {
        Acl(
            f"User:{doc['metadata']['name']}",
            rule["resource"]["type"].upper(),
            rule["resource"]["name"],
            operation.upper(),
        )
        for doc in documents
        for rule in doc["spec"]["authorization"]["acls"]
        for operation in rule["operations"]
    }
    assert found == set(all_acls())
    assert {doc["spec"]["authentication"]["type"] for doc in documents} == {"scram-sha-512"}


def test_every_topic_has_exactly_one_writer() -> None:
    acls = all_acls()
    for spec in TOPICS:
        writers = {
            a.principal for a in acls if a.resource_name == spec.name and a.operation == "WRITE"
        }
        assert len(writers) == 1, (spec.name, writers)
    for topic in INPUTS:
        assert allowed("User:boucle-collector", "WRITE", topic, acls)
    for topic in ("boucle.metrics.v1", "boucle.signals.v1", "boucle.problems.v1"):
        assert allowed("User:boucle-analyzer", "WRITE", topic, acls)
    for topic in ("boucle.cases.v1", "boucle.actions.v1"):
        assert allowed("User:boucle-actions", "WRITE", topic, acls)
    assert not allowed("User:boucle-collector", "WRITE", "boucle.metrics.v1", acls)
    assert not allowed("User:boucle-reporter", "WRITE", "boucle.feedback.v1", acls)


def test_only_layout_topics_and_own_dead_letters_are_named() -> None:
    layout = {spec.name for spec in TOPICS}
    for access in SERVICE_ACCESS:
        assert set(access.produces) | set(access.consumes) <= layout, access.service
    for acl in all_acls():
        if acl.resource_type == "TOPIC" and acl.resource_name not in layout:
            group = acl.resource_name.removeprefix("boucle.deadletter.")
            assert acl.principal == f"User:{group}", acl  # a group's dead letters are its own
            assert acl.operation in {"WRITE", "DESCRIBE"}, acl


def test_consumers_read_their_topics_and_their_group_only() -> None:
    acls = all_acls()
    groups = {a.principal: a.resource_name for a in acls if a.resource_type == "GROUP"}
    assert groups == {
        "User:boucle-analyzer": "boucle-analyzer",
        "User:boucle-actions": "boucle-actions",
        "User:boucle-reporter": "boucle-reporter",
        "User:boucle-surveys": "boucle-surveys",
    }
    assert {a.operation for a in acls if a.resource_type == "GROUP"} == {"READ"}
    assert not any(a.principal == "User:boucle-collector" and a.operation == "READ" for a in acls)
    for spec in TOPICS:  # the evidence log records every topic
        assert allowed("User:boucle-reporter", "READ", spec.name, acls)
        assert allowed("User:boucle-reporter", "DESCRIBE", spec.name, acls)


def test_consumer_groups_are_the_services_defaults() -> None:
    for settings_cls in (AnalyzerSettings, ActionsSettings, ReporterSettings):
        default = settings_cls.model_fields["consumer_group"].default
        service = default.removeprefix("boucle-")
        assert ACCESS[service].consumer_group == default
        assert dead_letter_topic(default) in {a.resource_name for a in all_acls()}


@pytest.mark.parametrize("service", sorted(ACCESS))
def test_acls_cover_what_the_asyncapi_document_declares(service: str) -> None:
    """A service that starts reading or writing a topic needs its ACL (else: refused)."""
    document = json.loads((ROOT / "services" / service / "asyncapi.json").read_text())
    channels = {key: channel["address"] for key, channel in document["channels"].items()}
    access = ACCESS[service]
    own_dead_letters = (
        {dead_letter_topic(access.consumer_group)} if access.consumer_group else set()
    )
    for operation in document["operations"].values():
        address = channels[unquote(operation["channel"]["$ref"].split("/")[-1])]
        if operation["action"] == "send":
            assert address in set(access.produces) | own_dead_letters, (service, address)
        else:
            assert address in access.consumes, (service, address)


def test_no_create_unless_services_create_topics_and_then_only_their_own() -> None:
    assert not any(a.operation == "CREATE" for a in all_acls())
    creates = [a for a in all_acls(create_topics=True) if a.operation == "CREATE"]
    for acl in creates:
        assert allowed(acl.principal, "WRITE", acl.resource_name, all_acls()), acl
    assert {a.principal for a in creates} == {a.principal for a in all_acls()}


def test_a_topic_prefix_applies_to_topics_and_groups() -> None:
    prefixed = all_acls(prefix="staging.")
    assert all(a.resource_name.startswith("staging.") for a in prefixed)
    assert len(prefixed) == len(all_acls())
    assert "--prefix staging." in render(prefixed, prefix="staging.")
