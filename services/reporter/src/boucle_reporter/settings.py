"""Reporter settings, from ``BOUCLE_REPORTER_*`` environment variables."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from boucle_runtime.auth import AuthSettings
from boucle_runtime.settings import MongoSettings, ServiceSettings


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
