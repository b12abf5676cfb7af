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

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.IGNORECASE)


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


def _run_entrypoint(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = tmp_path / ".venv" / "bin" / "boucle-collector"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text("#!/bin/sh\nenv | grep '^BOUCLE_COLLECTOR_' | sort\n")
    binary.chmod(0o755)
    base = {"PATH": os.environ["PATH"], "BOUCLE_SERVICE": "collector"}
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
