"""Structured logs: one JSON object per line on stdout, with secrets and personal data masked.

Masked twice: by key (``email=…``, ``{"payload": {"phone": …}}``) and by value (an e-mail
address, a French phone number, a bearer token or a JWT inside any string, the message of a
library's log line and an exception's traceback included: error messages quote payloads).
Library loggers that repeat themselves while a backend is down (aiokafka, FastStream) are
collapsed: the first line is written, identical ones are counted for a while, and the next
one written says how many were left out (``boucle_runtime.backends`` logs the outage itself,
once when it starts and once when it ends).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import structlog

from boucle_runtime.redaction import MASK, mask_text

__all__ = ["MASK", "RepeatCollapser", "configure_logging", "get_logger", "is_sensitive"]

# Values never reach a log line when their key names a secret or personal data, however
# deep in the event they sit: ``email``, ``user_email``, ``{"payload": {"phone": …}}``.
SECRET_WORDS = ("authorization", "password", "secret", "token", "api_key", "apikey", "signature")
PERSONAL_WORDS = ("email", "phone", "first_name", "last_name", "full_name", "address")
FREE_TEXT_KEYS = frozenset({"name", "comment", "comments", "text", "description", "answer", "body"})

# Loggers that write one line per retry of a reconnecting client.
CHATTY_LOGGERS = ("aiokafka", "faststream")
# Our own events that repeat once per retry of the same failure.
REPEATING_EVENTS = frozenset({"handler_failed_will_retry"})
REPEAT_WINDOW_SECONDS = 60.0


def is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in FREE_TEXT_KEYS or any(w in lowered for w in (*SECRET_WORDS, *PERSONAL_WORDS))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: MASK if is_sensitive(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def _mask_sensitive(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key == "event":  # our event names, or a library's formatted message
            event[key] = _masked(event[key])
        else:
            event[key] = MASK if is_sensitive(key) else _masked(event[key])
    return event


def _mask_exception(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """After ``format_exc_info``: a traceback's messages can quote payload text."""
    if isinstance(event.get("exception"), str):
        event["exception"] = mask_text(event["exception"])
    return event


def _is_chatty(record: logging.LogRecord) -> bool:
    name = record.name
    if any(name == p or name.startswith(f"{p}.") for p in CHATTY_LOGGERS):
        return True
    if name.endswith(".faststream"):  # the broker's logger (make_broker)
        return True
    return isinstance(record.msg, Mapping) and record.msg.get("event") in REPEATING_EVENTS


class RepeatCollapser(logging.Filter):
    """Lets the first of identical library lines through, then one per window with a count.

    Lines are identical when they come from the same logger at the same level with the same
    message template (aiokafka's ``"Unable connect to node with id %s: %s"`` whatever the
    node and error). Only warnings and errors of chatty libraries are collapsed: our own
    events are never dropped, except the one-per-retry ``handler_failed_will_retry``.
    """

    def __init__(
        self,
        *,
        window_seconds: float = REPEAT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._window, self._clock = window_seconds, clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not _is_chatty(record):
            return True
        template = record.msg.get("event") if isinstance(record.msg, Mapping) else record.msg
        key = (record.name, record.levelno, str(template))
        now = self._clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self._window:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        suppressed = last[1] if last is not None else 0
        self._seen[key] = (now, 0)
        if len(self._seen) > 1_000:  # templates are few; bound it anyway
            self._seen = {key: self._seen[key]}
        if suppressed:
            _note_repeats(record, suppressed)
        return True


def _note_repeats(record: logging.LogRecord, count: int) -> None:
    if isinstance(record.msg, Mapping):
        record.msg = {**record.msg, "repeats_not_logged": count}
    else:
        record.msg = f"{record.msg} [{count} identical lines not logged]"


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
        # Not cached: a logger cached on first use keeps the configuration of that moment, so
        # a process that configures again (tests building several apps) or captures logs
        # (structlog.testing.capture_logs) would not be heard. The cost is a lookup per call.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _mask_exception,
                renderer,
            ],
        )
    )
    handler.addFilter(RepeatCollapser())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # FastStream gives its own logger a stderr handler of its own and no propagation: its
    # lines would escape the masking and the JSON format.
    own = logging.getLogger("faststream")
    own.handlers[:] = []
    own.propagate = True
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
