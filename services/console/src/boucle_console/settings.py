"""Console settings, from ``BOUCLE_CONSOLE_*`` environment variables.

The console has no broker and no database: it signs people in with OpenID Connect, keeps
their tokens in an encrypted cookie and calls the actions and reporter APIs on their behalf.
"""

from __future__ import annotations

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

    @field_validator("oidc_issuer_url", "oidc_client_secret", "session_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (``${VAR:-}`` in compose) means "not configured"."""
        return None if isinstance(value, str) and not value.strip() else value
