"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from the environment (``BOUCLE_<SERVICE>_…``) and an optional ``.env`` file."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name (test isolation, shared clusters)."
    )
    create_topics: bool = Field(default=True, description="Create missing topics at start-up.")
    topic_partitions: int | None = Field(
        default=None, ge=1, description="Override the layout's partition counts."
    )
    topic_replication_factor: int = Field(default=1, ge=1, description="3 in production clusters.")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    graceful_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Time given to in-flight work on SIGTERM."
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class MongoSettings(BaseSettings):
    """Mixin for services that keep state in MongoDB."""

    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = "boucle"
