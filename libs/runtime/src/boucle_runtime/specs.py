"""A service's API documents, from its composition root: OpenAPI (HTTP) and AsyncAPI 3.0 (Kafka).

Both are read from the app that ``create_app(settings)`` builds with the settings' declared
defaults, the very wiring the service runs with, so they describe what is deployed and
nothing else. Building the app connects to nothing (only its lifespan does): generation needs
no broker, no database and no environment variable, and ignores any ``.env`` file.

    specs = service_specs(create_app, AnalyzerSettings)
    Path("services/analyzer/asyncapi.json").write_text(specs.asyncapi, encoding="utf-8")
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic_settings import BaseSettings

SettingsT = TypeVar("SettingsT", bound=BaseSettings)
Document = dict[str, Any]
ASYNCAPI_VERSION = "3.0.0"


def default_settings(settings_cls: type[SettingsT]) -> SettingsT:
    """The declared defaults only: neither the environment nor a ``.env`` file is read."""
    settings = settings_cls.model_construct()  # typed as the base class by pydantic-settings
    assert isinstance(settings, settings_cls)
    return settings


def build_app(create_app: Callable[[SettingsT], FastAPI], settings_cls: type[SettingsT]) -> FastAPI:
    """The service's app with default settings; nothing connects (no lifespan runs)."""
    return create_app(default_settings(settings_cls))


def openapi_document(app: FastAPI) -> Document:
    """The HTTP API, as FastAPI describes it (OpenAPI 3.1)."""
    return app.openapi()


def asyncapi_document(app: FastAPI) -> Document:
    """The Kafka API of ``app.state.broker``: its subscribers and publishers (AsyncAPI 3.0)."""
    broker = getattr(app.state, "broker", None)
    if not isinstance(broker, KafkaBroker):
        msg = f"app.state.broker must hold the service's KafkaBroker, not {broker!r}"
        raise TypeError(msg)
    specification = AsyncAPI(
        broker,
        title=app.title,
        version=app.version,
        description=app.description or None,
        schema_version=ASYNCAPI_VERSION,
    ).to_specification()
    document = specification.to_jsonable()
    if not isinstance(document, dict):
        msg = f"FastStream returned a {type(document).__name__}, not an AsyncAPI object"
        raise TypeError(msg)
    _describe_correlation_ids(document)
    return document


CORRELATION_ID_DESCRIPTION = (
    "The event's CloudEvents `correlationid` (its `id` when it has none), shared by every "
    "event of one business flow; written by Boucle's publishers (EventPublisher) and kept "
    "on dead letters. The value in the payload is authoritative."
)


def _describe_correlation_ids(document: Document) -> None:
    """Say what the ``correlation_id`` header FastStream declares on every message holds."""
    messages = document.get("components", {}).get("messages", {})
    for message in messages.values():
        correlation = message.get("correlationId") if isinstance(message, dict) else None
        if isinstance(correlation, dict):
            correlation["description"] = CORRELATION_ID_DESCRIPTION


def render(document: Document) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 kept readable, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class ServiceSpecs:
    """The rendered documents of one service."""

    openapi: str
    asyncapi: str


def service_specs(
    create_app: Callable[[SettingsT], FastAPI], settings_cls: type[SettingsT]
) -> ServiceSpecs:
    """Both documents of one service, rendered, from one app built with default settings."""
    app = build_app(create_app, settings_cls)
    return ServiceSpecs(
        openapi=render(openapi_document(app)), asyncapi=render(asyncapi_document(app))
    )
