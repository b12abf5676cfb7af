"""Collector settings, from ``BOUCLE_COLLECTOR_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from boucle_runtime.settings import MongoSettings, ServiceSettings


class CollectorSettings(ServiceSettings, MongoSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_COLLECTOR_", env_file=".env", extra="ignore"
    )

    http_port: int = Field(default=8081, ge=0, le=65535)
    mongodb_database: str = "boucle_collector"
    mappings_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the mappings managed through the API are re-read from MongoDB "
        "(a write through another replica is in force here after at most this long).",
    )
    publish_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Beyond this, answer 503: nothing was accepted."
    )
    integrations_file: Path | None = Field(
        default=None,
        description="JSON file of integrations, API key hashes and mappings. Required, unless "
        "allow_unauthenticated is set (development only).",
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="Without an integrations file, accept native API calls without a key "
        "(local development and demos only; the collector refuses to start otherwise).",
    )
    integrations_reload_seconds: float = Field(
        default=5.0, gt=0, description="How often the integrations file is checked for changes."
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest body of one request (413 beyond)."
    )
    max_bulk_body_bytes: int = Field(
        default=20_000_000, ge=1024, description="Largest body of a bulk NDJSON request."
    )
    max_bulk_items: int = Field(default=5_000, ge=1, description="Most lines in one bulk request.")
    rate_limit_per_second: float = Field(
        default=20.0, gt=0, description="Requests per second per API key or webhook (per replica)."
    )
    rate_limit_burst: int = Field(default=100, ge=1, description="Requests allowed in a burst.")
    recent_ids_capacity: int = Field(
        default=100_000, ge=1, description="Accepted event ids remembered to answer duplicates."
    )
    pseudonymisation_secret: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC pseudonymising respondents (16+ bytes); unset = "
        "names and emails of respondents are dropped rather than pseudonymised.",
    )
    surveymonkey_base_url: str = Field(
        default="https://api.surveymonkey.com", description="SurveyMonkey API base URL."
    )
    upstream_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Timeout of calls to platform APIs (SurveyMonkey, LimeSurvey JSON-RPC).",
    )
    limesurvey_poll_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often the surveys of LimeSurvey integrations are exported (pulled).",
    )
