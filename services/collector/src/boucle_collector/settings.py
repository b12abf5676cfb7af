"""Collector settings, from ``BOUCLE_COLLECTOR_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from boucle_runtime.settings import ServiceSettings


class CollectorSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_COLLECTOR_", env_file=".env", extra="ignore"
    )

    http_port: int = Field(default=8081, ge=0, le=65535)
    publish_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Beyond this, answer 503: nothing was accepted."
    )
