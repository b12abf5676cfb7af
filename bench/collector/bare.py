"""The baseline of one-event intake: a bare ASGI app that parses JSON and awaits Kafka.

    BENCH_BARE_TOPIC=… BENCH_BARE_PORT=… python -m bench.collector.bare

No framework, no validation beyond ``json.loads``, no logging: ``POST`` any path ending in
``/networks/<n>/sites/<s>/<kind>`` and the body is sent to the topic keyed by ``<n>/<s>``
with the producer settings of the services (acks=all, idempotent), then answered 202 once
the broker acknowledged it. ``GET /health/ready`` answers 200. Served by uvicorn with the
settings of ``boucle_runtime.service.serve``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from aiokafka import AIOKafkaProducer

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ACCEPTED = json.dumps({"status": "accepted"}).encode()


class BareIntake:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._producer: AIOKafkaProducer | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True
                )
                await self._producer.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._producer is not None:
                    await self._producer.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _answer(send, 200, b"{}")
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            json.loads(body)
        except ValueError:
            await _answer(send, 422, b'{"detail":"not JSON"}')
            return
        parts = scope["path"].strip("/").split("/")
        key = f"{parts[-4]}/{parts[-2]}".encode() if len(parts) >= 4 else None
        assert self._producer is not None
        await self._producer.send_and_wait(self._topic, body, key=key)
        await _answer(send, 202, ACCEPTED)


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    app = BareIntake(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["BENCH_BARE_TOPIC"])
    # as boucle_runtime.service.serve runs every service
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["BENCH_BARE_PORT"]),
        log_config=None,
        timeout_graceful_shutdown=20,
        access_log=False,
    )


if __name__ == "__main__":
    main()
