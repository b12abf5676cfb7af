"""How every Kafka client of a service authenticates and encrypts, from its settings.

One place turns ``kafka_security_protocol`` and friends into what FastStream's broker and
aiokafka's clients expect, so that the broker, the admin client creating topics and the
tools all connect the same way. PLAINTEXT (the default) adds nothing: local development
and the tests of the other services are unchanged.
"""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from boucle_runtime.settings import KafkaSettings


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """TLS that verifies the brokers' certificates (and host names) against the CA file."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    cafile = settings.kafka_ssl_cafile
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(cafile) if cafile else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.kafka_ssl_certfile is not None:
        keyfile = settings.kafka_ssl_keyfile
        context.load_cert_chain(str(settings.kafka_ssl_certfile), str(keyfile) if keyfile else None)
    return context


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The ``security`` of a FastStream ``KafkaBroker``; None for PLAINTEXT."""
    context = ssl_context(settings)
    if context is None:
        return None
    if settings.kafka_security_protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    username, password = _credentials(settings)
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(username, password, ssl_context=context)


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments of any aiokafka client (admin, producer, consumer) of the service."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers}
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return options
    options |= {"security_protocol": protocol, "ssl_context": ssl_context(settings)}
    if protocol == "SASL_SSL":
        username, password = _credentials(settings)
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    return options


def _credentials(settings: KafkaSettings) -> tuple[str, str]:
    # The settings validator already refused SASL_SSL without both; this keeps mypy honest.
    if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
        raise ValueError("SASL_SSL needs kafka_sasl_username and kafka_sasl_password")
    return settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()
