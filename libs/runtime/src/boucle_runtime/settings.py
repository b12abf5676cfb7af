"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


class KafkaSettings(BaseSettings):
    """How to reach and authenticate to Kafka; every service's settings include these.

    Alone (no prefix: ``KAFKA_*``) it is what operator tools such as tools/deadletters.py
    read to connect, as the admin, to a secured cluster.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default="PLAINTEXT",
        description="PLAINTEXT (local only), SSL (TLS, optionally with a client certificate) "
        "or SASL_SSL (SCRAM over TLS: what production runs, one user per service).",
    )
    kafka_sasl_mechanism: KafkaSaslMechanism = Field(
        default="SCRAM-SHA-512", description="SCRAM mechanism of the service's Kafka user."
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="Kafka user of this service (SASL_SSL), e.g. boucle-collector."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="Password of the service's Kafka user (SASL_SSL)."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL).",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="PEM client certificate, when the brokers require one (SSL)."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="PEM private key of kafka_ssl_certfile."
    )

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        """Refuse at start a half-configured secured connection (it would fail later, vaguely)."""
        protocol, missing = self.kafka_security_protocol, []
        if protocol == "SASL_SSL":
            if not self.kafka_sasl_username:
                missing.append("KAFKA_SASL_USERNAME")
            if self.kafka_sasl_password is None or not self.kafka_sasl_password.get_secret_value():
                missing.append("KAFKA_SASL_PASSWORD")
        if protocol != "PLAINTEXT" and self.kafka_ssl_cafile is None:
            missing.append("KAFKA_SSL_CAFILE")
        if missing:
            raise ValueError(
                f"kafka_security_protocol={protocol} needs {', '.join(missing)} "
                "(with the service's prefix, e.g. BOUCLE_COLLECTOR_KAFKA_SSL_CAFILE)"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together")
        if protocol == "PLAINTEXT" and (self.kafka_sasl_username or self.kafka_ssl_cafile):
            # Credentials without a secured protocol would silently talk in clear text.
            raise ValueError(
                "Kafka credentials or a CA file are set but kafka_security_protocol is "
                "PLAINTEXT: set it to SASL_SSL (or SSL)"
            )
        return self


class ServiceSettings(KafkaSettings):
    """Read from the environment (``BOUCLE_<SERVICE>_…``) and an optional ``.env`` file."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

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
    http_max_body_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        description="Largest request body of any route, refused with 413 before anything "
        "(authentication included) reads it.",
    )
    api_docs_enabled: bool = Field(
        default=False,
        description="Serve the interactive API documentation (/docs, /redoc). Off in "
        "production: the same OpenAPI document is committed as openapi.json.",
    )
    api_schema_enabled: bool = Field(
        default=True,
        description="Serve the OpenAPI document at /openapi.json (what client generators read).",
    )
    readiness_refresh_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often Kafka and the database are checked in the background; "
        "/health/ready answers from the last results.",
    )
    handler_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Failed attempts of a handler on one message before the message is parked "
        "on the group's dead-letter topic. Failures while a backend is down do not count.",
    )
    handler_retry_backoff_seconds: float = Field(
        default=0.2, gt=0, description="First wait before a failed message is tried again."
    )
    handler_retry_backoff_max_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait between two attempts (the wait doubles up to it).",
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class MongoSettings(BaseSettings):
    """Mixin for services that keep state in MongoDB."""

    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = "boucle"
