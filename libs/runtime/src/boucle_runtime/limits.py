"""Request body size limit of every HTTP service: 413 before anything reads the body.

Pure ASGI, outside every route: authentication (a webhook's signature is computed over the
body), validation and handlers never see a body over the limit, whether it declares its
size (``Content-Length``, refused without reading a byte) or streams it in chunks (refused
as soon as the chunks received pass the limit, without buffering the rest).
"""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLargeError(Exception):
    pass


class BodySizeLimit:
    """Answers ``413`` with ``{"detail": …}`` to a request whose body exceeds ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app, self._max = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self._max:
            await self._refuse(send)
            return
        received, too_large, answered = 0, False, False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > self._max:
                too_large = True
                raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            # The app may catch the error of its body read and answer something else (400):
            # whatever it answers then, the client gets the 413.
            nonlocal answered
            if too_large:
                if not answered:
                    answered = True
                    await self._refuse(send)
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLargeError):  # raised by our receive: answered below
            await self._app(scope, limited_receive, guarded_send)
        if too_large and not answered:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": f"request body larger than {self._max} bytes",
                "max_body_bytes": self._max,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
