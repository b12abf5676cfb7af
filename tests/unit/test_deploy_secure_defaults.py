"""Secure defaults of the Compose stack and the service image's entrypoint.

The Compose file must never run with a default secret or an open intake: every secret is a
Compose secret read from a git-ignored file, which ``init-secrets.sh`` writes once. The
entrypoint turns ``BOUCLE_<SERVICE>_<NAME>__FILE`` into the setting's value, so secrets never
have to sit in the environment of the compose file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints
from cryptography.fernet import Fernet
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from boucle_actions.settings import ActionsSettings
from boucle_analyzer.settings import AnalyzerSettings
from boucle_collector.settings import CollectorSettings
from boucle_console.settings import ConsoleSettings
from boucle_reporter.settings import ReporterSettings
from boucle_surveys.settings import SurveysSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
# Names of secret settings; `_KEY` at the end too (the surveys' CONTACTS_KEY), but not a
# setting that is itself a path (the reporter's EVIDENCE_SIGNING_KEY_FILE, one underscore).
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|_KEY(__FILE)?$", re.IGNORECASE)
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (
    CollectorSettings,
    AnalyzerSettings,
    ActionsSettings,
    ReporterSettings,
    ConsoleSettings,
    SurveysSettings,
)


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return {str(k): str(v) for k, v in env.items()}


def test_no_secret_is_set_inline_or_with_a_default() -> None:
    for name, service in _compose()["services"].items():
        for key, value in _environment(service).items():
            if not SECRETISH.search(key):
                continue
            assert key.endswith("__FILE"), f"{name}: {key} must come from a secret file"
            assert value.startswith("/run/secrets/"), f"{name}: {key} = {value}"


def test_every_mounted_secret_is_a_declared_git_ignored_file() -> None:
    compose = _compose()
    declared = compose["secrets"]
    for name, service in compose["services"].items():
        for secret in service.get("secrets", []):
            assert secret in declared, f"{name} mounts undeclared secret {secret}"
        for value in _environment(service).values():
            if value.startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in service.get("secrets", []), value
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/compose/secrets/" in ignored
    for secret in declared.values():
        assert secret["file"].startswith("./secrets/")


def test_the_collector_intake_is_never_open_and_grafana_needs_a_sign_in() -> None:
    services = _compose()["services"]
    collector = _environment(services["collector"])
    assert "BOUCLE_COLLECTOR_ALLOW_UNAUTHENTICATED" not in collector
    assert collector["BOUCLE_COLLECTOR_INTEGRATIONS_FILE"].startswith("/run/secrets/")
    grafana = _environment(services["grafana"])
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in grafana


def test_init_secrets_writes_private_files_once_and_a_key_that_matches_its_hash(
    tmp_path: Path,
) -> None:
    script = tmp_path / "compose" / "init-secrets.sh"
    script.parent.mkdir()
    script.write_bytes((COMPOSE / "init-secrets.sh").read_bytes())
    script.chmod(0o755)
    first = subprocess.run(
        [str(script), "reseau-test"], capture_output=True, text=True, check=True
    ).stdout
    secrets = script.parent / "secrets"
    integrations = json.loads((secrets / "collector-integrations.json").read_text())
    (entry,) = integrations["integrations"]
    assert entry["network_id"] == "reseau-test"
    key = first.strip().splitlines()[-1].strip()
    assert entry["api_keys"][0]["sha256"] == hashlib.sha256(key.encode()).hexdigest()
    for path in secrets.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert key not in path.read_text()  # only its hash is stored
    before = {p.name: p.read_bytes() for p in secrets.iterdir()}
    second = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout
    assert second == ""  # nothing rewritten: a new pseudonymisation key would change pseudonyms
    assert {p.name: p.read_bytes() for p in secrets.iterdir()} == before
    refused = subprocess.run(
        [str(script), "bad id;rm"], check=False, capture_output=True, text=True
    )
    assert refused.returncode == 64


def test_every_secret_setting_of_every_service_has_no_default() -> None:
    for settings in SETTINGS_CLASSES:
        for name, field in settings.model_fields.items():
            if "SecretStr" in str(field.annotation):
                assert field.default is None, f"{settings.__name__}.{name} has a default"


def test_console_and_surveys_read_their_secrets_from_files() -> None:
    services = _compose()["services"]
    console = _environment(services["console"])
    for name in ("SESSION_SECRET", "OIDC_CLIENT_SECRET"):
        assert console[f"BOUCLE_CONSOLE_{name}__FILE"].startswith("/run/secrets/"), name
        assert f"BOUCLE_CONSOLE_{name}" not in console
    assert console["BOUCLE_CONSOLE_ACTIONS_URL"] == "http://actions:8083"
    assert console["BOUCLE_CONSOLE_REPORTER_URL"] == "http://reporter:8084"
    surveys = _environment(services["surveys"])
    for name in ("CONTACTS_KEY", "OPT_OUT_SECRET", "SMTP_PASSWORD"):
        assert surveys[f"BOUCLE_SURVEYS_{name}__FILE"].startswith("/run/secrets/"), name
        assert f"BOUCLE_SURVEYS_{name}" not in surveys
    # No relay by default: the placeholder never resolves (RFC 2606), so nothing is sent
    # anywhere until an operator names theirs; and STARTTLS unless turned off.
    assert surveys["BOUCLE_SURVEYS_SMTP_HOST"] == "${BOUCLE_SMTP_HOST:-smtp-relay.invalid}"
    assert surveys["BOUCLE_SURVEYS_SMTP_STARTTLS"] == "${BOUCLE_SMTP_STARTTLS:-true}"
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond the host"


def test_init_secrets_writes_keys_the_console_and_surveys_accept(tmp_path: Path) -> None:
    script = tmp_path / "compose" / "init-secrets.sh"
    script.parent.mkdir()
    script.write_bytes((COMPOSE / "init-secrets.sh").read_bytes())
    script.chmod(0o755)
    subprocess.run([str(script)], capture_output=True, text=True, check=True)
    secrets = script.parent / "secrets"
    declared = {Path(s["file"]).name for s in _compose()["secrets"].values()}
    assert declared == {p.name for p in secrets.iterdir()}, "init-secrets.sh writes every file"
    contacts_key = (secrets / "surveys-contacts-key").read_text()
    Fernet(contacts_key.encode())  # raises unless 32 bytes in URL-safe base64
    surveys = SurveysSettings(
        contacts_key=SecretStr(contacts_key),
        opt_out_secret=SecretStr((secrets / "surveys-opt-out-secret").read_text()),
    )
    assert surveys.missing_secrets() == []
    assert len((secrets / "console-session-secret").read_text()) >= 32
    # Left empty for the operator; an empty value means "not configured" to the services.
    assert (secrets / "console-oidc-client-secret").read_text() == ""
    assert (secrets / "surveys-smtp-password").read_text() == ""
    again = script.parent.parent / "again"
    again.mkdir()
    (again / "init-secrets.sh").write_bytes(script.read_bytes())
    (again / "init-secrets.sh").chmod(0o755)
    subprocess.run([str(again / "init-secrets.sh")], capture_output=True, text=True, check=True)
    assert (again / "secrets" / "surveys-contacts-key").read_text() != contacts_key


def _run_entrypoint(
    tmp_path: Path, env: dict[str, str], service: str = "collector"
) -> subprocess.CompletedProcess[str]:
    binary = tmp_path / ".venv" / "bin" / f"boucle-{service}"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text(f"#!/bin/sh\nenv | grep '^BOUCLE_{service.upper()}_' | sort\n")
    binary.chmod(0o755)
    base = {"PATH": os.environ["PATH"], "BOUCLE_SERVICE": service}
    return subprocess.run(
        ["sh", str(ENTRYPOINT)],
        env={**base, "BOUCLE_APP_DIR": str(tmp_path), **env},
        check=False,
        capture_output=True,
        text=True,
    )


def test_entrypoint_reads_double_underscore_file_variables_into_settings(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-value-of-32-bytes-or-more\n")
    done = _run_entrypoint(
        tmp_path,
        {
            "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET__FILE": str(secret),
            "BOUCLE_COLLECTOR_INTEGRATIONS_FILE": "/run/secrets/collector-integrations",
        },
    )
    assert done.returncode == 0, done.stderr
    env = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert env["BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET"] == "s3cr3t-value-of-32-bytes-or-more"
    # A setting that is itself a path (one underscore) is left alone, not read.
    assert "BOUCLE_COLLECTOR_INTEGRATIONS" not in env
    assert "s3cr3t" not in done.stderr


def test_entrypoint_keeps_a_value_already_set_and_refuses_an_unreadable_file(
    tmp_path: Path,
) -> None:
    kept = _run_entrypoint(
        tmp_path,
        {
            "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET": "from-env",
            "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET__FILE": "/nonexistent",
        },
    )
    assert "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET=from-env" in kept.stdout
    missing = _run_entrypoint(
        tmp_path, {"BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET__FILE": "/nonexistent"}
    )
    assert missing.returncode == 66
    assert "/nonexistent" in missing.stderr


@pytest.mark.parametrize(
    ("service", "name"), [("surveys", "CONTACTS_KEY"), ("console", "SESSION_SECRET")]
)
def test_entrypoint_serves_the_console_and_surveys_images(
    tmp_path: Path, service: str, name: str
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a-value-read-from-a-secret-file\n")
    variable = f"BOUCLE_{service.upper()}_{name}"
    done = _run_entrypoint(tmp_path, {f"{variable}__FILE": str(secret)}, service)
    assert done.returncode == 0, done.stderr
    env = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert env[variable] == "a-value-read-from-a-secret-file"
    assert env[f"BOUCLE_{service.upper()}_HTTP_HOST"] == "0.0.0.0"
