"""Collector settings, from ``BOUCLE_COLLECTOR_*`` environment variables."""

from __future__ import annotations

from boucle_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class CollectorSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_COLLECTOR_", env_file=".env", extra="ignore"
    )

    http_port: int = 8081
    publish_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Beyond this, answer 503: nothing was accepted."
    )
    max_body_bytes: int = Field(default=1_000_000, gt=0)
