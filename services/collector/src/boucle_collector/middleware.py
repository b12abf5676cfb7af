"""ASGI middleware of the intake: body size limits (413) and request latency by channel."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boucle_collector.metrics import CollectorMetrics


class BodyTooLargeError(Exception):
    pass


def channel_of(path: str) -> str | None:
    """The metrics channel of an intake path; None for operational endpoints."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "v1":
        return None
    if parts[1] == "webhooks":
        return f"webhooks/{parts[2]}" if len(parts) > 2 else "webhooks"
    if parts[1] in ("bulk", "imports"):
        return "bulk" if parts[1] == "bulk" else "import"
    if len(parts) > 3 and parts[3] == "integrations":
        return "mappings"
    return "api"


class IntakeLimits:
    """Refuses bodies over the limit before reading them all, and times every intake request."""

    def __init__(
        self, app: ASGIApp, *, metrics: CollectorMetrics, max_body: int, max_bulk_body: int
    ) -> None:
        self.app, self.metrics = app, metrics
        self.max_body, self.max_bulk_body = max_body, max_bulk_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        channel = channel_of(scope.get("path", "")) if scope["type"] == "http" else None
        if channel is None:
            await self.app(scope, receive, send)
            return
        limit = self.max_bulk_body if channel in ("bulk", "import") else self.max_body
        started, status = time.perf_counter(), [500]
        received, too_large, replaced = 0, False, False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                too_large = True
                raise BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            # The app may catch the error of its body read (FastAPI answers 400): whatever it
            # answers then, the client gets our 413.
            nonlocal replaced
            if too_large:
                if not replaced:
                    replaced = True
                    await self._too_large(send, channel, limit)
                    status[0] = 413
                return
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            declared = dict(scope.get("headers") or []).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                too_large = True
                await guarded_send({"type": "http.response.start", "status": 413})
                return
            try:
                await self.app(scope, limited_receive, guarded_send)
            except BodyTooLargeError:
                await guarded_send({"type": "http.response.start", "status": 413})
        finally:
            self.metrics.request_seconds.labels(channel, str(status[0])).observe(
                time.perf_counter() - started
            )

    async def _too_large(self, send: Send, channel: str, limit: int) -> None:
        self.metrics.rejected.labels("body_too_large", channel).inc()
        await _json(send, 413, {"detail": f"body larger than {limit} bytes"})


async def _json(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
