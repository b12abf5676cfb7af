"""One way to run a step every N seconds while a service is up.

Every background loop of every service (outbox relays, sweeps, pulls, refreshes, lag
sampling, snapshot publication, detection) is built here, so they all stop the same way
(promptly, once the service's stopping event is set), survive the same way (a failing step
is logged with its error type and retried at the next tick: a database hiccup never ends a
loop) and spread the same way (jitter, so replicas started together do not hit the
database in step).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from boucle_runtime.logging import get_logger

log = get_logger(__name__)

# A loop that runs while the service is up and returns soon after its event is set.
BackgroundLoop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

# A step returns True when more work is already waiting, so the loop runs it again at once
# (a backlog drains without pausing between batches); anything else waits for the next tick.
Step = Callable[[], Awaitable[bool | None]]


def every(
    seconds: float,
    step: Step,
    *,
    name: str,
    at_start: bool = False,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> BackgroundLoop:
    """A background loop that runs ``step`` every ``seconds`` until the service stops.

    ``at_start`` runs the step once before the first wait. ``jitter`` is the fraction of
    the interval by which each wait may randomly shorten or lengthen (0 for none). A step
    that raises is logged as ``<name>_failed`` with the exception's type only (its message
    may carry payload text or secrets) and tried again at the next tick.
    """
    if seconds <= 0:
        raise ValueError(f"{name}: the interval must be positive, got {seconds}")
    if not 0 <= jitter < 1:
        raise ValueError(f"{name}: jitter is a fraction in [0, 1), got {jitter}")
    draw = rng or random.Random()  # noqa: S311 - spreading timers, not a secret

    async def loop(stopping: asyncio.Event) -> None:
        pause = not at_start
        while not stopping.is_set():
            if pause:
                wait = seconds * (1 + draw.uniform(-jitter, jitter))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=wait)
                    return  # the service is stopping
            pause = True
            try:
                pause = (await step()) is not True
            except Exception as exc:
                log.error(f"{name}_failed", error=type(exc).__name__)

    return loop
