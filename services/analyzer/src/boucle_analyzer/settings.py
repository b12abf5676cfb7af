"""Analyzer settings, from ``BOUCLE_ANALYZER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from boucle_runtime.settings import MongoSettings, ServiceSettings


class AnalyzerSettings(ServiceSettings, MongoSettings):
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
        description="A week is evaluated once a later week has data, or this long after its end.",
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
