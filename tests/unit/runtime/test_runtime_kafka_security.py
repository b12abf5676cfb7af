"""Kafka security settings: validated at start, and what every client is built with."""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from boucle_runtime.kafka import make_broker
from boucle_runtime.kafka_security import broker_security, client_options, ssl_context
from boucle_runtime.settings import KafkaSettings, ServiceSettings

pytestmark = pytest.mark.unit


def _write_ca(path: Path) -> Path:
    """A self-signed CA certificate: any PEM CA will do for building TLS contexts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


CAFILE = _write_ca(Path(tempfile.mkdtemp(prefix="boucle-unit-ca-")) / "ca.pem")


def secured(**values: Any) -> ServiceSettings:
    base: dict[str, Any] = {
        "kafka_bootstrap_servers": "broker-1:9093,broker-2:9093",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "boucle-collector",
        "kafka_sasl_password": "s3cret-password",
        "kafka_ssl_cafile": CAFILE,
    }
    return ServiceSettings.model_validate(base | values)


def test_plaintext_stays_the_default_and_adds_nothing() -> None:
    settings = ServiceSettings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert broker_security(settings) is None
    assert ssl_context(settings) is None
    assert client_options(settings) == {"bootstrap_servers": "127.0.0.1:9092"}


def test_env_of_a_service_configures_sasl_ssl(monkeypatch: pytest.MonkeyPatch) -> None:
    class CollectorLike(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="BOUCLE_UNITSVC_")

    monkeypatch.setenv("BOUCLE_UNITSVC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("BOUCLE_UNITSVC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("BOUCLE_UNITSVC_KAFKA_SASL_USERNAME", "boucle-collector")
    monkeypatch.setenv("BOUCLE_UNITSVC_KAFKA_SASL_PASSWORD", "from-a-secret-store")
    monkeypatch.setenv("BOUCLE_UNITSVC_KAFKA_SSL_CAFILE", str(CAFILE))
    settings = CollectorLike()
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-256"
    assert "from-a-secret-store" not in repr(settings)  # a SecretStr never prints


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("kafka_sasl_username", "KAFKA_SASL_USERNAME"),
        ("kafka_sasl_password", "KAFKA_SASL_PASSWORD"),
        ("kafka_ssl_cafile", "KAFKA_SSL_CAFILE"),
    ],
)
def test_sasl_ssl_needs_user_password_and_ca(missing: str, named: str) -> None:
    with pytest.raises(ValidationError, match=f"SASL_SSL needs .*{named}"):
        secured(**{missing: None})


def test_an_empty_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD"):
        secured(kafka_sasl_password="")


def test_ssl_needs_a_ca_and_a_key_with_its_certificate() -> None:
    with pytest.raises(ValidationError, match="SSL needs KAFKA_SSL_CAFILE"):
        KafkaSettings(kafka_security_protocol="SSL")
    with pytest.raises(ValidationError, match="go together"):
        KafkaSettings(
            kafka_security_protocol="SSL", kafka_ssl_cafile=CAFILE, kafka_ssl_certfile=CAFILE
        )


def test_credentials_over_plaintext_are_refused() -> None:
    with pytest.raises(ValidationError, match="PLAINTEXT"):
        secured(kafka_security_protocol="PLAINTEXT")


def test_sasl_ssl_gives_scram_over_verified_tls() -> None:
    settings = secured()
    context = ssl_context(settings)
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2

    security = broker_security(settings)
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password) == ("boucle-collector", "s3cret-password")
    assert security.use_ssl
    assert isinstance(broker_security(secured(kafka_sasl_mechanism="SCRAM-SHA-256")), SASLScram256)

    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "boucle-collector"
    assert options["sasl_plain_password"] == "s3cret-password"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["bootstrap_servers"] == "broker-1:9093,broker-2:9093"


def test_ssl_alone_is_tls_without_sasl() -> None:
    settings = KafkaSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=CAFILE)
    security = broker_security(settings)
    assert type(security) is BaseSecurity
    assert security.use_ssl
    assert "sasl_mechanism" not in client_options(settings)
    assert client_options(settings)["security_protocol"] == "SSL"


def test_the_runtime_broker_connects_with_the_settings() -> None:
    """make_broker hands the security to FastStream, hence to its producer and consumers."""
    broker = make_broker(secured(), service="collector", registry=CollectorRegistry())
    config: dict[str, Any] = broker._connection_kwargs  # what aiokafka clients get at connect
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["sasl_plain_username"] == "boucle-collector"
    assert isinstance(config["ssl_context"], ssl.SSLContext)

    plain = make_broker(ServiceSettings(), service="collector", registry=CollectorRegistry())
    plain_config: dict[str, Any] = plain._connection_kwargs
    assert plain_config.get("security_protocol", "PLAINTEXT") == "PLAINTEXT"


def test_the_dead_letter_tool_connects_as_the_unprefixed_kafka_env_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tools.deadletters import connection

    assert connection("127.0.0.1:9092") == {"bootstrap_servers": "127.0.0.1:9092"}
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "boucle-admin")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "admin-secret")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(CAFILE))
    options = connection("broker-1:9093")
    assert options["bootstrap_servers"] == "broker-1:9093"
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_username"] == "boucle-admin"
