"""Reporter settings, from ``BOUCLE_REPORTER_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from boucle_runtime.settings import MongoSettings, ServiceSettings


class ReporterSettings(ServiceSettings, MongoSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_REPORTER_", env_file=".env", extra="ignore"
    )

    http_port: int = Field(default=8084, ge=0, le=65535)
    mongodb_database: str = "boucle_reporter"
    consumer_group: str = "boucle-reporter"
