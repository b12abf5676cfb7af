"""Structured logs: one JSON object per line on stdout, with secrets and personal data masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Values never reach a log line when their key names a secret or personal data, however
# deep in the event they sit: ``email``, ``user_email``, ``{"payload": {"phone": …}}``.
SECRET_WORDS = ("authorization", "password", "secret", "token", "api_key", "apikey", "signature")
PERSONAL_WORDS = ("email", "phone", "first_name", "last_name", "full_name", "address")
FREE_TEXT_KEYS = frozenset({"name", "comment", "comments", "text", "description", "answer", "body"})
MASK = "[masked]"


def is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in FREE_TEXT_KEYS or any(w in lowered for w in (*SECRET_WORDS, *PERSONAL_WORDS))


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: MASK if is_sensitive(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def _mask_sensitive(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event":
            event[key] = MASK if is_sensitive(key) else _masked(event[key])
    return event


def configure_logging(*, service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the standard library (uvicorn, aiokafka, FastStream) to one stream."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_sensitive,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
