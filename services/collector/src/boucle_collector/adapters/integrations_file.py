"""The integrations file: read, validated, secrets resolved; reloaded when it changes.

JSON (format in the README). API keys are stored as SHA-256 hashes; webhook secrets and
access tokens are never in the file either, only the environment variables or the files
(e.g. a mounted Kubernetes secret) that hold them. The file and the secret files are checked
for changes (mtime, size) and everything is re-read when one changed. A file that fails
validation at start stops the service with every problem listed; at a reload, the previous
configuration stays in force and the error is logged and counted
(``boucle_collector_integrations_reloads_total{outcome="invalid"}``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import ValidationError

from boucle_collector.adapters.mapping_cache import ManagedMappings
from boucle_collector.domain.integrations import IntegrationsFile, SecretRef, Tenancy
from boucle_collector.metrics import CollectorMetrics
from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)


Stamp = tuple[tuple[str, int, int], ...]  # path, mtime (ns), size of each file read

# What a secret's value must look like, by platform.
SECRET_FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "formbricks": (lambda v: v.startswith("whsec_"), "a Formbricks secret starts with whsec_"),
    "surveymonkey": (lambda v: "&" in v, "must be api_key&api_secret"),
    "kobotoolbox": (lambda v: ":" in v, "must be user:password"),
}


class IntegrationsError(ValueError):
    """The file cannot be used; the message lists every problem with its location."""


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def parse_integrations(text: str, *, environ: Mapping[str, str]) -> Tenancy:
    """Validate the file's content and resolve its secrets from ``environ``."""
    try:
        config = IntegrationsFile.model_validate_json(text)
    except ValidationError as exc:
        errors = [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise IntegrationsError("invalid integrations file:\n  " + "\n  ".join(errors)) from exc
    problems: list[str] = []
    secrets: dict[str, tuple[str, ...]] = {}
    tokens: dict[str, str] = {}

    def resolve(where: str, ref: SecretRef) -> str:
        if ref.env is not None:
            value = environ.get(ref.env, "")
            if not value:
                problems.append(f"{where}: environment variable {ref.env} is not set")
            return value
        assert ref.file is not None
        try:
            value = Path(ref.file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"{where}: cannot read {ref.file}: {exc.strerror}")
            return ""
        if not value:
            problems.append(f"{where}: {ref.file} is empty")
        return value

    for index, integration in enumerate(config.integrations):
        where = f"integrations.{index} ({integration.id})"
        secrets[integration.id] = tuple(
            resolve(f"{where}.secrets.{n}", ref) for n, ref in enumerate(integration.secrets)
        )
        if integration.access_token is not None:
            tokens[integration.id] = resolve(f"{where}.access_token", integration.access_token)
        if integration.limesurvey is not None:
            password = integration.limesurvey.password
            tokens[integration.id] = resolve(f"{where}.limesurvey.password", password)
        rule = SECRET_FORMATS.get(integration.platform)
        for n, value in enumerate(secrets[integration.id]):
            if rule is not None and value and not rule[0](value):
                problems.append(f"{where}.secrets.{n}: {rule[1]}")
    if problems:
        raise IntegrationsError("invalid integrations file:\n  " + "\n  ".join(problems))
    return Tenancy.build(config, secrets=secrets, access_tokens=tokens)


class IntegrationsSource:
    """The integrations in force. Without a file, the native API is open (development)."""

    def __init__(
        self,
        path: Path | None,
        *,
        metrics: CollectorMetrics,
        environ: Mapping[str, str] = os.environ,
        managed: ManagedMappings | None = None,
    ) -> None:
        self.path = path
        self.from_file = Tenancy()
        self.managed = managed
        self._merged: tuple[Tenancy, int, Tenancy] | None = None
        self._metrics = metrics
        self._environ = environ
        self._stamp: Stamp = ()

    @property
    def current(self) -> Tenancy:
        """The file's integrations, with the forms managed through the API in force."""
        if self.managed is None:
            return self.from_file
        merged = self._merged
        if merged is None or merged[0] is not self.from_file or merged[1] != self.managed.version:
            tenancy = self.from_file.with_forms(self.managed.forms)
            merged = self._merged = (self.from_file, self.managed.version, tenancy)
        return merged[2]

    @property
    def open(self) -> bool:
        """No integrations file: API keys are not checked, and no webhook is configured."""
        return self.path is None

    def _files(self) -> list[Path]:
        """The integrations file and the secret files its integrations read."""
        assert self.path is not None
        refs = [
            ref
            for integration in self.from_file.integrations.values()
            for ref in (
                *integration.secrets,
                integration.access_token,
                integration.limesurvey.password if integration.limesurvey else None,
            )
            if ref is not None and ref.file is not None
        ]
        return [self.path, *(Path(ref.file) for ref in refs if ref.file)]

    def _stamp_now(self) -> Stamp:
        stamps: list[tuple[str, int, int]] = []
        for path in self._files():
            try:
                stat = path.stat()
                stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append((str(path), -1, -1))
        return tuple(stamps)

    def _read(self) -> Tenancy:
        assert self.path is not None
        return parse_integrations(self.path.read_text(encoding="utf-8"), environ=self._environ)

    def load(self) -> None:
        """At start: a missing or invalid file raises (the service does not start)."""
        if self.path is None:
            log.warning("integrations_file_unset", consequence="native API accepts any caller")
            return
        try:
            self.from_file = self._read()
        except OSError as exc:
            raise IntegrationsError(f"integrations file {self.path}: {exc}") from exc
        self._stamp = self._stamp_now()
        self._metrics.integrations_reloads.labels("loaded").inc()
        log.info("integrations_loaded", count=len(self.from_file.integrations))

    def reload_if_changed(self) -> bool:
        """Reload when the file or a secret file changed; keep the old one if the new is bad."""
        if self.path is None:
            return False
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return False
        self._stamp = stamp  # a bad version is reported once, not at every check
        try:
            tenancy = self._read()
        except (OSError, ValueError) as exc:
            self._metrics.integrations_reloads.labels("invalid").inc()
            log.error("integrations_reload_failed", error=str(exc), kept="previous configuration")
            return False
        self.from_file = tenancy
        self._stamp = self._stamp_now()  # the new configuration may read other secret files
        self._metrics.integrations_reloads.labels("loaded").inc()
        log.info("integrations_reloaded", count=len(tenancy.integrations))
        return True

    def watcher(self, interval_seconds: float) -> BackgroundLoop:
        """A background loop checking the file every ``interval_seconds``."""

        async def check() -> None:
            self.reload_if_changed()

        return every(interval_seconds, check, name="integrations_check")
