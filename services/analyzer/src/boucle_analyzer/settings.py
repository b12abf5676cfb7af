"""Analyzer settings, from ``BOUCLE_ANALYZER_*`` environment variables."""

from __future__ import annotations

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
