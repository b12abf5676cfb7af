"""Reporter settings, from ``BOUCLE_REPORTER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from boucle_runtime.settings import MongoSettings, ServiceSettings
from pydantic_settings import SettingsConfigDict


class ReporterSettings(ServiceSettings, MongoSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_REPORTER_", env_file=".env", extra="ignore"
    )

    http_port: int = 8084
    mongodb_database: str = "boucle_reporter"
    consumer_group: str = "boucle-reporter"
    output_dir: Path = Path("out/reports")
