"""Surveys settings, from ``BOUCLE_SURVEYS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from boucle_runtime.auth import AuthSettings
from boucle_runtime.settings import MongoSettings, ServiceSettings


class SurveysSettings(ServiceSettings, MongoSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="BOUCLE_SURVEYS_", env_file=".env", extra="ignore")

    http_port: int = Field(default=8086, ge=0, le=65535)
    mongodb_database: str = "boucle_surveys"
    consumer_group: str = "boucle-surveys"
    public_url: str = Field(
        default="http://127.0.0.1:8086",
        description="Address people reach the service at (opt-out links in e-mails).",
    )
    contacts_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key encrypting contact details at rest (from a secret store; "
            "required: the service refuses to start without it)."
        ),
    )
    opt_out_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Secret signing the opt-out links (from a secret store; required).",
    )

    def missing_secrets(self) -> list[str]:
        names = {"contacts_key": self.contacts_key, "opt_out_secret": self.opt_out_secret}
        return [f"BOUCLE_SURVEYS_{name.upper()}" for name, value in names.items() if not value]

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = Field(
        default="Boucle <qualite@boucle.example>", description="From: of the survey e-mails."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    sender_domain: str = Field(default="boucle.example", description="Right side of Message-IDs.")
    dispatch_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often due invitations, reminders and expiries run."
    )
    mails_per_tick: int = Field(
        default=200, ge=1, description="At most this many steps per tick: the sending rate limit."
    )
    yearly_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the yearly rules are checked."
    )
