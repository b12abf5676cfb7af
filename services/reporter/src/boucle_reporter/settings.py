"""Reporter settings, from ``BOUCLE_REPORTER_*`` environment variables."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from boucle_runtime.auth import AuthSettings
from boucle_runtime.settings import MongoSettings, ServiceSettings

DAY_SECONDS = 86_400.0


class ReporterSettings(ServiceSettings, MongoSettings, AuthSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_REPORTER_", env_file=".env", extra="ignore"
    )

    http_port: int = Field(default=8084, ge=0, le=65535)
    mongodb_database: str = "boucle_reporter"
    consumer_group: str = "boucle-reporter"
    builds_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "boucle-reporter-builds",
        description="Where finished dossiers de preuves (zip) are kept.",
    )
    evidence_signing_key: SecretStr | None = Field(
        default=None,
        description=(
            "Ed25519 private key (PKCS#8 PEM) signing chain heads and verification reports, "
            "from a secret store. Without it (or the file below) heads are unsigned: a "
            "readiness gap in every dossier."
        ),
    )
    evidence_signing_key_file: Path | None = Field(
        default=None, description="File holding the signing key, instead of the variable."
    )
    evidence_previous_public_keys_file: Path | None = Field(
        default=None,
        description=(
            "PEM public keys of retired signing keys (several blocks in one file): still "
            "published, so dossiers signed before a rotation stay verifiable."
        ),
    )
    retention_responses_days: int | None = Field(
        default=1095,
        ge=1,
        description="Days the evidence log keeps the bodies of survey responses (empty: forever).",
    )
    retention_complaints_days: int | None = Field(
        default=1825,
        ge=1,
        description=(
            "Days the evidence log keeps the bodies of complaints, incidents and cases "
            "(empty: forever)."
        ),
    )
    retention_training_days: int | None = Field(
        default=1825,
        ge=1,
        description=(
            "Days the evidence log keeps the bodies of enrolments, completions and dropouts "
            "(empty: forever)."
        ),
    )
    retention_evidence_days: int | None = Field(
        default=2190,
        ge=1,
        description=(
            "Days the evidence log keeps the bodies of every other event (figures, "
            "degradations, actions; empty: forever)."
        ),
    )
    retention_interval_seconds: float = Field(
        default=DAY_SECONDS,
        gt=0,
        description="How often the evidence retention periods are applied.",
    )

    @field_validator(
        "evidence_signing_key",
        "evidence_signing_key_file",
        "evidence_previous_public_keys_file",
        "retention_responses_days",
        "retention_complaints_days",
        "retention_training_days",
        "retention_evidence_days",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (``${VAR:-}`` in compose) means "not configured"."""
        return None if isinstance(value, str) and not value.strip() else value

    def signing_key_pem(self) -> str | None:
        if self.evidence_signing_key is not None:
            return self.evidence_signing_key.get_secret_value()
        if self.evidence_signing_key_file is not None:
            return self.evidence_signing_key_file.read_text(encoding="ascii")
        return None

    def retention_days(self) -> dict[str, int | None]:
        """Data family → retention in days (see ``domain/retention.py``)."""
        return {
            "responses": self.retention_responses_days,
            "complaints": self.retention_complaints_days,
            "training": self.retention_training_days,
            "evidence": self.retention_evidence_days,
        }
