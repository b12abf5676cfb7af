"""Background loops of the collector: an action every N seconds until the service stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from boucle_runtime.logging import get_logger
from boucle_runtime.service import BackgroundLoop

log = get_logger(__name__)


def every(
    seconds: float, action: Callable[[], Awaitable[object]], *, name: str, at_start: bool = False
) -> BackgroundLoop:
    """Run ``action`` every ``seconds`` (and once at start if asked); a failure is logged
    (``<name>_failed``, exception type only: no secret or personal data) and retried at the
    next tick, never fatal."""

    async def loop(stopping: asyncio.Event) -> None:
        wait = not at_start
        while not stopping.is_set():
            if wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=seconds)
                    return  # the service is stopping
            wait = True
            try:
                await action()
            except Exception as exc:
                log.error(f"{name}_failed", error=type(exc).__name__)

    return loop
