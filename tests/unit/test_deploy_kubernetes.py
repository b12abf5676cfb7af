"""The Kubernetes manifests (deploy/kubernetes/) against the code they deploy.

Without a cluster: every YAML file parses; each Deployment has the probes, security context,
resources and configuration the platform expects; every ConfigMap key is a field of the
service's settings class (and its value validates); the topics Job creates exactly the
registry's layout; autoscalers never exceed what the consumer groups can use. Then both
overlays are rendered with kustomize (``deploy/kubernetes/build-kustomize.sh`` builds it into
``.cache/bin``) and the rendered objects are checked again.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints
from fastapi import FastAPI
from pydantic_settings import BaseSettings

from boucle_actions.app import create_app as create_actions
from boucle_actions.settings import ActionsSettings
from boucle_analyzer.app import create_app as create_analyzer
from boucle_analyzer.settings import AnalyzerSettings
from boucle_collector.app import create_app as create_collector
from boucle_collector.settings import CollectorSettings
from boucle_console.app import create_app as create_console
from boucle_console.settings import ConsoleSettings
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_reporter.app import create_app as create_reporter
from boucle_reporter.settings import ReporterSettings
from boucle_surveys.app import create_app as create_surveys
from boucle_surveys.settings import SurveysSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
OVERLAYS = ("dev", "production")
KUSTOMIZE = ROOT / ".cache" / "bin" / "kustomize"
TOPICS_SCRIPT = BASE / "topics" / "create-topics.sh"

Doc = dict[str, Any]

SETTINGS: dict[str, type[BaseSettings]] = {
    "collector": CollectorSettings,
    "analyzer": AnalyzerSettings,
    "actions": ActionsSettings,
    "reporter": ReporterSettings,
    "console": ConsoleSettings,
    "surveys": SurveysSettings,
}
APPS: dict[str, Callable[[Any], FastAPI]] = {
    "collector": create_collector,
    "analyzer": create_analyzer,
    "actions": create_actions,
    "reporter": create_reporter,
    "console": create_console,
    "surveys": create_surveys,
}
PARTITIONS = {spec.name: spec.partitions for spec in TOPICS}
PRE_STOP_SECONDS = 5  # the `sleep 5` preStop hook of every Deployment


# --- loading -------------------------------------------------------------------------------


def _load_all(path: Path) -> list[Doc]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def _kustomization(folder: Path) -> Doc:
    docs = _load_all(folder / "kustomization.yaml")
    assert len(docs) == 1
    return docs[0]


@cache
def _base_docs() -> tuple[Doc, ...]:
    kustomization = _kustomization(BASE)
    return tuple(doc for name in kustomization["resources"] for doc in _load_all(BASE / name))


def _find(docs: Iterable[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _of_kind(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def _container(deployment: Doc) -> Doc:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    container: Doc = containers[0]
    return container


def _prefix(service: str) -> str:
    return f"BOUCLE_{service.upper()}_"


def _env_names(settings: type[BaseSettings], service: str) -> set[str]:
    return {f"{_prefix(service)}{name.upper()}" for name in settings.model_fields}


@cache
def _consumed_topics(service: str) -> frozenset[str]:
    """Topics the service's consumer group subscribes to, from the app itself."""
    app = APPS[service](SETTINGS[service]())
    broker = getattr(app.state, "broker", None)  # the console has none
    if broker is None:
        return frozenset()
    return frozenset(name for subscriber in broker.subscribers for name in subscriber.topic_names)


def _uses_kafka(service: str) -> bool:
    return "kafka_bootstrap_servers" in SETTINGS[service].model_fields


def _path_fields(settings: type[BaseSettings]) -> list[str]:
    return [name for name, f in settings.model_fields.items() if "Path" in str(f.annotation)]


def _name_of(doc: Doc) -> str:
    name: str = doc["metadata"]["name"]
    return name


def _strip_hash(name: str) -> str:
    """boucle-topics-script-b4c7g6t7kh -> boucle-topics-script (kustomize generator suffix)."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


# --- what every rendering must satisfy -----------------------------------------------------


def _check_deployment(deployment: Doc, configmap: Mapping[str, str], service: str) -> None:
    name = f"boucle-{service}"
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    where = f"{name}: "

    assert container["image"] == f"boucle/{service}:0.1.0", where + "image"
    port = int(configmap[f"{_prefix(service)}HTTP_PORT"])
    assert [p["containerPort"] for p in container["ports"]] == [port], where + "containerPort"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true", where + "scrape annotation"
    assert annotations["prometheus.io/port"] == str(port), where + "scrape port"
    assert annotations["prometheus.io/path"] == "/metrics", where + "scrape path"

    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", where + "liveness"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", where + "readiness"
    assert "httpGet" in container["startupProbe"], where + "startupProbe"

    pod_security = pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True, where + "runAsNonRoot"
    assert pod_security["runAsUser"] == 10001, where + "runAsUser"
    assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", where + "seccomp"
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True, where + "readOnlyRootFilesystem"
    assert security["allowPrivilegeEscalation"] is False, where + "allowPrivilegeEscalation"
    assert security["runAsNonRoot"] is True, where + "container runAsNonRoot"
    assert security["capabilities"]["drop"] == ["ALL"], where + "capabilities"
    volumes = {v["name"]: v for v in pod["volumes"]}
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert len(tmp) == 1, where + "/tmp must be mounted (read-only root filesystem)"
    assert "emptyDir" in volumes[tmp[0]["name"]], where + "/tmp must be an emptyDir"

    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            assert container["resources"][kind][resource], where + f"{kind}.{resource}"

    refs = container["envFrom"]
    config_refs = [_strip_hash(r["configMapRef"]["name"]) for r in refs if "configMapRef" in r]
    secret_refs = [_strip_hash(r["secretRef"]["name"]) for r in refs if "secretRef" in r]
    assert config_refs == [f"{name}-config"], where + "envFrom configMapRef"
    assert secret_refs == [f"{name}-secrets"], where + "envFrom secretRef"
    for ref in refs:
        assert not ref.get("configMapRef", ref.get("secretRef", {})).get("optional"), (
            where + "configuration and secrets are required"
        )

    # Kubernetes would inject BOUCLE_<SERVICE>_PORT etc. for the Service of the same name.
    assert pod["enableServiceLinks"] is False, where + "enableServiceLinks"
    assert pod["automountServiceAccountToken"] is False, where + "automountServiceAccountToken"
    graceful = float(configmap[f"{_prefix(service)}GRACEFUL_TIMEOUT_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] == 30, where + "terminationGracePeriodSeconds"
    assert graceful + PRE_STOP_SECONDS < pod["terminationGracePeriodSeconds"], (
        where + "the drain and the preStop pause must fit in the grace period"
    )
    assert container["lifecycle"]["preStop"]["exec"]["command"] == [
        "sleep",
        str(PRE_STOP_SECONDS),
    ]

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), where + "selector must match the pod labels"

    # The root filesystem is read-only: every path a setting names must be on a volume.
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container["volumeMounts"]]
    for field in _path_fields(SETTINGS[service]):
        value = configmap.get(f"{_prefix(service)}{field.upper()}")
        if value:
            assert any(value.startswith(m) for m in mounts), (
                where + f"{field}={value} is on the read-only root filesystem (mounts: {mounts})"
            )


def _check_configmap(data: Mapping[str, Any], service: str) -> None:
    settings = SETTINGS[service]
    prefix = _prefix(service)
    unknown = sorted(set(data) - _env_names(settings, service))
    assert not unknown, (
        f"boucle-{service}-config sets {unknown}, which {settings.__name__} does not have "
        f"(fields: {sorted(settings.model_fields)})"
    )
    if _uses_kafka(service):
        assert data[f"{prefix}CREATE_TOPICS"] == "false", "the topics Job owns the layout"
    values = {key.removeprefix(prefix).lower(): value for key, value in data.items()}
    settings.model_validate(values)  # raises, naming the field, on a value the service refuses


def _check_rendered(docs: list[Doc], overlay: str) -> None:
    for doc in docs:
        where = f"{overlay}: {doc['kind']} {_name_of(doc)}"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "boucle", where
        assert doc["metadata"].get("namespace"), where + " has no namespace"
    configmaps = {_name_of(d): d["data"] for d in _of_kind(docs, "ConfigMap")}
    secrets = {_strip_hash(_name_of(d)): d for d in _of_kind(docs, "Secret")}
    job = _find(docs, "Job", "boucle-topics")
    job_env = _job_env(docs)
    for service, settings in SETTINGS.items():
        data = configmaps[f"boucle-{service}-config"]
        _check_configmap(data, service)
        deployment = _find(docs, "Deployment", f"boucle-{service}")
        _check_deployment(deployment, data, service)
        if _uses_kafka(service):
            replication = data[f"{_prefix(service)}TOPIC_REPLICATION_FACTOR"]
            assert replication == job_env["REPLICATION_FACTOR"], f"{overlay}: {service}"
        for ref in _container(deployment)["envFrom"]:
            if "secretRef" in ref and overlay == "dev":
                secret = secrets[_strip_hash(ref["secretRef"]["name"])]
                keys = {k for k in secret.get("data", {}) if k.startswith(_prefix(service))}
                unknown = sorted(keys - _env_names(settings, service))
                assert not unknown, f"dev Secret of {service} sets unknown settings {unknown}"
    script = _find(docs, "ConfigMap", _volume(job, "script")["configMap"]["name"])
    assert script["data"]["create-topics.sh"] == TOPICS_SCRIPT.read_text(encoding="utf-8")
    for hpa in _of_kind(docs, "HorizontalPodAutoscaler"):
        _check_hpa(hpa, docs)
    for pdb in _of_kind(docs, "PodDisruptionBudget"):
        assert ("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]), (
            f"{overlay}: PDB {_name_of(pdb)} needs exactly one of minAvailable, maxUnavailable"
        )


def _job_env(docs: Iterable[Doc]) -> dict[str, str]:
    container = _container(_find(docs, "Job", "boucle-topics"))
    return {e["name"]: e["value"] for e in container["env"]}


def _volume(workload: Doc, name: str) -> Doc:
    volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
    volume: Doc = volumes[name]
    return volume


def _check_hpa(hpa: Doc, docs: list[Doc]) -> None:
    target = hpa["spec"]["scaleTargetRef"]
    assert target["kind"] == "Deployment"
    deployment = _find(docs, "Deployment", target["name"])
    assert "replicas" not in deployment["spec"], (
        f"{target['name']} is autoscaled: an applied replicas would fight the autoscaler"
    )
    service = target["name"].removeprefix("boucle-")
    minimum, maximum = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
    assert 1 <= minimum <= maximum
    metrics = hpa["spec"]["metrics"]
    assert [m["resource"]["name"] for m in metrics] == ["cpu"], "scaled on CPU"
    consumed = _consumed_topics(service)
    if consumed:
        bound = max(PARTITIONS[topic] for topic in consumed)
        assert maximum <= bound, (
            f"{target['name']}: maxReplicas {maximum} > {bound}, the most partitions of the "
            f"topics it consumes ({sorted(consumed)}): replicas beyond that sit idle"
        )


# --- files ---------------------------------------------------------------------------------


def test_every_yaml_file_parses() -> None:
    files = sorted(KUBERNETES.rglob("*.yaml"))
    assert len(files) > 20
    for path in files:
        docs = _load_all(path)
        assert docs, f"{path} is empty"
        for doc in docs:
            assert {"apiVersion", "kind"} <= doc.keys(), f"{path}: a document lacks apiVersion/kind"


def test_every_base_file_is_a_resource_of_the_kustomization() -> None:
    kustomization = _kustomization(BASE)
    listed = {*kustomization["resources"]}
    listed |= {f for g in kustomization.get("configMapGenerator", []) for f in g["files"]}
    on_disk = {
        str(p.relative_to(BASE))
        for p in BASE.rglob("*")
        if p.is_file() and p.name != "kustomization.yaml"
    }
    assert on_disk == listed, f"not in kustomization.yaml: {sorted(on_disk - listed)}"


def test_every_kustomization_labels_its_objects_part_of_boucle() -> None:
    for folder in (BASE, *(KUBERNETES / "overlays" / o for o in OVERLAYS)):
        kustomization = _kustomization(folder)
        pairs = [entry["pairs"] for entry in kustomization["labels"]]
        assert {"app.kubernetes.io/part-of": "boucle"} in pairs, folder
        assert all(entry.get("includeSelectors") is False for entry in kustomization["labels"])
    assert "namespace" not in _kustomization(BASE), "the base stays namespace-agnostic"


# --- base: services ------------------------------------------------------------------------


@pytest.mark.parametrize("service", SETTINGS)
def test_deployment_follows_the_platform_rules(service: str) -> None:
    docs = _base_docs()
    configmap = _find(docs, "ConfigMap", f"boucle-{service}-config")["data"]
    _check_deployment(_find(docs, "Deployment", f"boucle-{service}"), configmap, service)


@pytest.mark.parametrize("service", SETTINGS)
def test_configmap_keys_are_settings_fields(service: str) -> None:
    _check_configmap(_find(_base_docs(), "ConfigMap", f"boucle-{service}-config")["data"], service)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_configmap_patches_set_only_settings_fields(overlay: str) -> None:
    patches = KUBERNETES / "overlays" / overlay / "patches" / "configmaps.yaml"
    for doc in _load_all(patches):
        service = _name_of(doc).removeprefix("boucle-").removesuffix("-config")
        unknown = sorted(set(doc["data"]) - _env_names(SETTINGS[service], service))
        assert not unknown, f"{patches}: {unknown} are not fields of {service}'s settings"


def test_dev_secrets_set_only_settings_fields() -> None:
    kustomization = _kustomization(KUBERNETES / "overlays" / "dev")
    for generator in kustomization["secretGenerator"]:
        service = generator["name"].removeprefix("boucle-").removesuffix("-secrets")
        keys = {literal.split("=", 1)[0] for literal in generator["literals"]}
        unknown = sorted(keys - _env_names(SETTINGS[service], service))
        assert not unknown, f"dev Secret {generator['name']}: unknown settings {unknown}"


def test_dev_secrets_are_visibly_dev_only() -> None:
    """Committed dev values must never pass for real keys (the surveys' Fernet key is base64)."""
    kustomization = _kustomization(KUBERNETES / "overlays" / "dev")
    for generator in kustomization["secretGenerator"]:
        for literal in generator["literals"]:
            key, value = literal.split("=", 1)
            if not re.search(r"SECRET|_KEY$|PASSWORD|TOKEN", key):
                continue
            try:
                decoded = base64.urlsafe_b64decode(value).decode()
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            assert "dev-only" in value or decoded.startswith("dev-only"), key


@pytest.mark.parametrize("service", SETTINGS)
def test_service_and_disruption_budget_select_the_pods(service: str) -> None:
    docs = _base_docs()
    deployment = _find(docs, "Deployment", f"boucle-{service}")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    svc = _find(docs, "Service", f"boucle-{service}")
    assert svc["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in svc["spec"]["ports"]] == ["http"]
    assert _container(deployment)["ports"][0]["name"] == "http"
    pdb = _find(docs, "PodDisruptionBudget", f"boucle-{service}")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"].get("maxUnavailable") == 1, "base budget: maxUnavailable 1"


def test_every_service_of_the_repository_is_deployed() -> None:
    services = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").is_file()}
    assert services == set(SETTINGS), "a service without manifests (or manifests without code)"


def test_console_calls_the_apis_through_their_services() -> None:
    docs = _base_docs()
    console = _find(docs, "ConfigMap", "boucle-console-config")["data"]
    for api in ("actions", "reporter"):
        port = _find(docs, "Service", f"boucle-{api}")["spec"]["ports"][0]["port"]
        assert console[f"BOUCLE_CONSOLE_{api.upper()}_URL"] == f"http://boucle-{api}:{port}"
    # Notifications belong to one replica only; the base runs none.
    assert console["BOUCLE_CONSOLE_NOTIFY_ENABLED"] == "false"
    assert "BOUCLE_CONSOLE_SESSION_SECRET" not in console, "a secret belongs in the Secret"


def test_surveys_sends_nowhere_until_a_relay_is_named_and_keeps_secrets_out() -> None:
    surveys = _find(_base_docs(), "ConfigMap", "boucle-surveys-config")["data"]
    assert surveys["BOUCLE_SURVEYS_SMTP_HOST"].endswith(".invalid")
    assert surveys["BOUCLE_SURVEYS_SMTP_STARTTLS"] == "true"
    secret_fields = {
        name for name, f in SurveysSettings.model_fields.items() if "SecretStr" in str(f.annotation)
    }
    assert {"contacts_key", "opt_out_secret", "smtp_password"} <= secret_fields
    assert not {f"BOUCLE_SURVEYS_{name.upper()}" for name in secret_fields} & set(surveys)
    assert "boucle.solicitations.v1" in _script_layout()
    assert "boucle.deadletter.boucle-surveys" in _script_layout()


def test_autoscalers_scale_collector_and_analyzer_within_their_partitions() -> None:
    docs = list(_base_docs())
    hpas = {_name_of(h): h for h in _of_kind(docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"boucle-collector", "boucle-analyzer"}
    for hpa in hpas.values():
        _check_hpa(hpa, docs)
    assert "boucle.feedback.v1" in _consumed_topics("analyzer")
    assert hpas["boucle-analyzer"]["spec"]["maxReplicas"] == PARTITIONS["boucle.feedback.v1"]


# --- base: topics --------------------------------------------------------------------------


def _script_layout() -> dict[str, tuple[int, str, str]]:
    """create_topic NAME PARTITIONS POLICY RETENTION lines of create-topics.sh."""
    pattern = re.compile(r"^create_topic\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*$", re.MULTILINE)
    layout: dict[str, tuple[int, str, str]] = {}
    for name, partitions, policy, retention in pattern.findall(TOPICS_SCRIPT.read_text()):
        assert name not in layout, f"{name} is created twice"
        layout[name] = (int(partitions), policy, retention)
    return layout


def _consumer_groups() -> set[str]:
    groups = set()
    for service, settings in SETTINGS.items():
        if "consumer_group" in settings.model_fields:
            data = _find(_base_docs(), "ConfigMap", f"boucle-{service}-config")["data"]
            default = settings.model_fields["consumer_group"].default
            groups.add(data.get(f"{_prefix(service)}CONSUMER_GROUP", default))
    return groups


def test_topics_job_creates_the_registry_layout() -> None:
    layout = _script_layout()
    expected = {
        spec.name: (spec.partitions, "compact" if spec.compacted else "delete", "events")
        for spec in TOPICS
    }
    expected |= {
        dead_letter_topic(group): (1, "delete", "deadletters") for group in _consumer_groups()
    }
    retention = {"events": '"$EVENT_RETENTION_MS"', "deadletters": '"$DEADLETTER_RETENTION_MS"'}
    actual = {
        name: (partitions, policy, next(k for k, v in retention.items() if v == kept))
        for name, (partitions, policy, kept) in layout.items()
    }
    assert actual == expected


def test_topics_job_runs_the_script_with_the_kafka_image() -> None:
    docs = _base_docs()
    job = _find(docs, "Job", "boucle-topics")
    container = _container(job)
    assert container["image"] == "apache/kafka:4.1.1"
    env = _job_env(docs)
    assert env["REPLICATION_FACTOR"] == "3"
    analyzer = _find(docs, "ConfigMap", "boucle-analyzer-config")["data"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == analyzer["BOUCLE_ANALYZER_KAFKA_BOOTSTRAP_SERVERS"]
    assert _volume(job, "script")["configMap"]["name"] == "boucle-topics-script"
    generators = {g["name"]: g for g in _kustomization(BASE)["configMapGenerator"]}
    assert generators["boucle-topics-script"]["files"] == ["topics/create-topics.sh"]
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize(("replication", "min_insync"), [("3", "2"), ("1", "1")])
def test_topics_script_creates_every_topic_idempotently(
    tmp_path: Path, replication: str, min_insync: str
) -> None:
    """Runs create-topics.sh against a stand-in kafka-topics.sh that records its arguments."""
    calls = tmp_path / "calls"
    stub = tmp_path / "kafka-topics.sh"
    stub.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {calls}\n'
        'if [[ " $* " == *" --describe "* ]]; then\n'
        '  printf "Topic: x\\tPartitionCount: 1\\tReplicationFactor: 1\\n"\n'
        "fi\n"
    )
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "KAFKA_BIN": str(tmp_path),
        "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
        "REPLICATION_FACTOR": replication,
        "TOPIC_PREFIX": "t1.",
        "KAFKA_CLIENT_CONFIG": str(tmp_path / "absent.properties"),
    }
    result = subprocess.run(
        ["bash", str(TOPICS_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    created = {}
    for line in calls.read_text().splitlines():
        args = line.split()
        if "--create" not in args:
            continue
        assert "--if-not-exists" in args
        assert args[args.index("--bootstrap-server") + 1] == "kafka:9092"
        assert args[args.index("--replication-factor") + 1] == replication
        assert f"min.insync.replicas={min_insync}" in args
        created[args[args.index("--topic") + 1]] = int(args[args.index("--partitions") + 1])
    assert created == {f"t1.{name}": p for name, (p, _, _) in _script_layout().items()}


# --- overlays, rendered --------------------------------------------------------------------


def _kustomize_build(overlay: str) -> list[Doc]:
    if not KUSTOMIZE.is_file():
        pytest.fail(
            f"kustomize not found at {KUSTOMIZE.relative_to(ROOT)}: build it with "
            "`deploy/kubernetes/build-kustomize.sh` (Go 1.24+, from the Go module proxy)"
        )
    result = subprocess.run(
        [str(KUSTOMIZE), "build", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_with_kustomize(overlay: str) -> None:
    docs = _kustomize_build(overlay)
    _check_rendered(docs, overlay)
    namespaces = {doc["metadata"]["namespace"] for doc in docs}
    assert namespaces == {"boucle-dev" if overlay == "dev" else "boucle"}


def test_dev_overlay_is_small_and_single_broker() -> None:
    docs = _kustomize_build("dev")
    assert not _of_kind(docs, "HorizontalPodAutoscaler")
    for deployment in _of_kind(docs, "Deployment"):
        assert deployment["spec"]["replicas"] == 1, _name_of(deployment)
    assert _job_env(docs)["REPLICATION_FACTOR"] == "1"
    collector = _find(docs, "ConfigMap", "boucle-collector-config")["data"]
    assert "BOUCLE_COLLECTOR_INTEGRATIONS_FILE" not in collector


def test_production_overlay_is_replicated() -> None:
    docs = _kustomize_build("production")
    assert _job_env(docs)["REPLICATION_FACTOR"] == "3"
    assert not _of_kind(docs, "Secret"), "production Secrets are created out of band"
    replicas = {
        _name_of(h).removeprefix("boucle-"): h["spec"]["minReplicas"]
        for h in _of_kind(docs, "HorizontalPodAutoscaler")
    }
    for deployment in _of_kind(docs, "Deployment"):
        service = _name_of(deployment).removeprefix("boucle-")
        count = replicas.get(service, deployment["spec"].get("replicas", 1))
        assert count >= 2, f"{service}: a single replica in production"
        pdb = _find(docs, "PodDisruptionBudget", _name_of(deployment))
        assert "maxUnavailable" not in pdb["spec"]
        assert 1 <= pdb["spec"]["minAvailable"] < count, f"{service}: the budget blocks drains"
    collector = _find(docs, "ConfigMap", "boucle-collector-config")["data"]
    assert collector["BOUCLE_COLLECTOR_INTEGRATIONS_FILE"], "production checks API keys"
    # Any reporter replica may serve a finished dossier: the build directory is shared.
    reporter = _find(docs, "Deployment", "boucle-reporter")
    builds = _find(docs, "ConfigMap", "boucle-reporter-config")["data"][
        "BOUCLE_REPORTER_BUILDS_DIR"
    ]
    mount = next(
        m
        for m in _container(reporter)["volumeMounts"]
        if builds.startswith(m["mountPath"].rstrip("/") + "/")
    )
    claim = _volume(reporter, mount["name"])["persistentVolumeClaim"]["claimName"]
    assert _find(docs, "PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"]
    integrations = _volume(_find(docs, "Deployment", "boucle-collector"), "integrations")
    assert integrations["secret"]["optional"] is False


def test_kubectl_bundled_kustomize_renders_the_same() -> None:
    """`kubectl apply -k` uses kubectl's own kustomize; it must accept the overlays too."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    for overlay in OVERLAYS:
        ours = _kustomize_build(overlay)
        result = subprocess.run(
            [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        theirs = [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]
        assert theirs == ours, f"kubectl kustomize renders {overlay} differently"
