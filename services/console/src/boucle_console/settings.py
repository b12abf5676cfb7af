"""Console settings, from ``BOUCLE_CONSOLE_*`` environment variables.

The console has no broker and no database: it signs people in with OpenID Connect, keeps
their tokens in an encrypted cookie and calls the actions and reporter APIs on their behalf.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from boucle_runtime.auth import AuthSettings


class ConsoleSettings(AuthSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOUCLE_CONSOLE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8085, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    graceful_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Time given to in-flight requests on SIGTERM."
    )
    http_max_body_bytes: int = Field(
        default=200_000, ge=1024, description="Largest form body accepted (413 above)."
    )
    api_schema_enabled: bool = Field(
        default=True, description="Serve the OpenAPI document of the pages at /openapi.json."
    )
    actions_url: str = Field(
        default="http://127.0.0.1:8083", description="Base URL of the actions service's API."
    )
    reporter_url: str = Field(
        default="http://127.0.0.1:8084", description="Base URL of the reporter service's API."
    )
    surveys_url: str = Field(
        default="http://127.0.0.1:8086",
        description="Base URL of the surveys service's API (collection plan, response rates).",
    )
    collector_url: str = Field(
        default="http://127.0.0.1:8081",
        description="Base URL of the collector's API, where the public form's messages go.",
    )
    collector_api_key: SecretStr | None = Field(
        default=None,
        description="The collector API key the public form posts with (an integration key "
        "allowed to write complaints and survey responses for the network's sites). Without "
        "it the public form says it is unavailable.",
    )
    public_form_min_seconds: float = Field(
        default=3.0,
        ge=0,
        description="A public form sent faster than this after it was shown is refused (a "
        "robot); the moment it was shown travels signed in the form, not in a cookie.",
    )
    public_form_max_age_seconds: float = Field(
        default=4 * 3600.0, gt=0, description="A public form older than this is shown again."
    )
    public_form_per_site_per_hour: int = Field(
        default=30,
        ge=1,
        description="Messages accepted per site and hour by the public form (in memory, per "
        "replica); nobody is tracked: no address, no cookie.",
    )
    api_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for one call to the actions or reporter API."
    )
    oidc_issuer_url: str | None = Field(
        default=None,
        description="Issuer of the identity provider; its discovery document is read from "
        "<issuer>/.well-known/openid-configuration. Without it nobody can sign in.",
    )
    oidc_client_id: str = Field(default="boucle-console", description="The console's client id.")
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="Client secret, for a confidential client (PKCE is used either way).",
    )
    oidc_scopes: str = Field(
        default="openid profile email", description="Scopes asked for at sign-in."
    )
    public_url: str | None = Field(
        default=None,
        description="The console's external URL (https://console.example.org), used for the "
        "OIDC redirect URIs; without it they are derived from each request.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Secret the session cookie is encrypted with (32+ characters, the same on "
        "every replica). Without it a random one is drawn at start: sessions end on restart.",
    )
    session_cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only; false only for local http.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, gt=0, description="Longest life of a session, whatever the token's."
    )
    default_locale: Literal["fr", "en"] = Field(
        default="fr", description="Language of the pages unless the person chose another."
    )

    notify_enabled: bool = Field(
        default=False,
        description="Send e-mail reminders (deadlines about to be missed, plans waiting for "
        "validation). Turn on in one replica only.",
    )
    notify_interval_seconds: float = Field(
        default=300.0, gt=0, description="Time between two rounds of reminders."
    )
    notify_token_file: Path | None = Field(
        default=None,
        description="File holding the notifier's access token (a quality lead's, of one "
        "network), read at every round so that it can be renewed in place.",
    )
    notify_recipients_file: Path | None = Field(
        default=None,
        description='JSON: {"quality_lead": [...], "direction": [...], "sites": {"lyon": '
        "[...]}}, the addresses reminders go to.",
    )
    notify_state_path: Path | None = Field(
        default=None,
        description="JSON file remembering what was sent and who unsubscribed; without it, "
        "memory only (a restart may send a reminder again).",
    )
    notify_acknowledge_warning_hours: float = Field(
        default=12.0, gt=0, description="Remind this long before the acknowledgement deadline."
    )
    notify_answer_warning_hours: float = Field(
        default=48.0, gt=0, description="Remind this long before the answer deadline."
    )
    notify_measures_warning_days: float = Field(
        default=7.0, gt=0, description="Remind this long before a plan's due date."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server of the reminders.")
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with TLS.")
    smtp_from: str = Field(
        default="Boucle <notifications@boucle.local>", description="Sender of the reminders."
    )

    @field_validator(
        "oidc_issuer_url",
        "oidc_client_secret",
        "session_secret",
        "collector_api_key",
        "smtp_username",
        "smtp_password",
        "notify_token_file",
        "notify_recipients_file",
        "notify_state_path",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (``${VAR:-}`` in compose) means "not configured"."""
        return None if isinstance(value, str) and not value.strip() else value
