"""Whether the backends (Kafka, the database) answer: checked in the background, read at once.

One :class:`BackendMonitor` per service runs the readiness checks every few seconds, each
within its own timeout, and keeps the results. ``/health/ready`` answers from them within a
bound (a check of a dead broker takes its whole timeout; a probe must not), consumers ask it
whether a handler failure happened while everything answered (only then does it count
towards parking the message, see ``deadletter``), and it turns a backend's state into
metrics and two log lines per outage: ``backend_down`` when it starts and ``backend_up``
with its duration when it ends, instead of one line per reconnection attempt.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Gauge

from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

ReadinessCheck = Callable[[], Awaitable[bool]]
log = get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
FRESH_FOR_SECONDS = 5.0
ANSWER_WITHIN_SECONDS = 0.2


class BackendMonitor:
    """The last known state of each backend, refreshed in the background."""

    def __init__(
        self,
        checks: Mapping[str, ReadinessCheck],
        *,
        registry: CollectorRegistry,
        check_timeout: float = CHECK_TIMEOUT_SECONDS,
        fresh_for: float = FRESH_FOR_SECONDS,
        answer_within: float = ANSWER_WITHIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._check_timeout, self._fresh_for = check_timeout, fresh_for
        self._answer_within, self._clock = answer_within, clock
        self._up: dict[str, bool] = {}
        self._down_since: dict[str, float] = {}
        self._checked_at: float | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._gauge = Gauge(
            "boucle_backend_up",
            "1 while the backend answers this service's readiness check, 0 during an outage.",
            ["backend"],
            registry=registry,
        )
        self._outages = Counter(
            "boucle_backend_outages",
            "Outages of a backend seen by this service (an answering backend stopped answering).",
            ["backend"],
            registry=registry,
        )

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    def all_up(self) -> bool:
        """Whether every backend answered its last check (none checked yet: unknown, False)."""
        return all(self._up.get(name, False) for name in self._checks)

    def last_known(self) -> dict[str, bool]:
        """Each backend's last result; one never checked counts as down."""
        return {name: self._up.get(name, False) for name in self._checks}

    async def refresh(self) -> None:
        """Run every check now (or join the run already going)."""
        await asyncio.shield(self._refresh_task())

    async def current(self) -> dict[str, bool]:
        """The states, re-checked if older than ``fresh_for``, within ``answer_within``.

        A check still running past the bound goes on in the background: this answer gives
        the last known state (down if never known), the next one its result.
        """
        fresh = self._checked_at is not None and self._clock() - self._checked_at < self._fresh_for
        if not fresh:
            await asyncio.wait({self._refresh_task()}, timeout=self._answer_within)
        return self.last_known()

    def loop(self, interval_seconds: float) -> BackgroundLoop:
        return every(interval_seconds, self.refresh, name="backend_checks", at_start=True)

    def _refresh_task(self) -> asyncio.Task[None]:
        task = self._refreshing
        # A task of another event loop (a test client runs one per request) cannot be awaited.
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._refreshing = asyncio.create_task(self._run_checks())
        return task

    async def _run_checks(self) -> None:
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(self._checks[name]) for name in names))
        for name, ok in zip(names, results, strict=True):
            self._record(name, ok)
        self._checked_at = self._clock()

    async def _run(self, check: ReadinessCheck) -> bool:
        try:
            return bool(await asyncio.wait_for(check(), timeout=self._check_timeout))
        except Exception:  # a failing dependency means "not ready", never an error
            return False

    def _record(self, name: str, ok: bool) -> None:
        before = self._up.get(name)
        self._up[name] = ok
        self._gauge.labels(name).set(1 if ok else 0)
        if not ok and before is not False:
            self._down_since[name] = self._clock()
            self._outages.labels(name).inc()
            log.error("backend_down", backend=name)
        elif ok and before is False:
            lasted = self._clock() - self._down_since.pop(name, self._clock())
            log.warning("backend_up", backend=name, outage_seconds=round(lasted, 1))


# The monitor of the service that owns a broker: service_app registers it, the consumers of
# that broker (built before the app) look it up when a handler fails.
_MONITORS: weakref.WeakKeyDictionary[KafkaBroker, BackendMonitor] = weakref.WeakKeyDictionary()


def register_monitor(broker: KafkaBroker, monitor: BackendMonitor) -> None:
    _MONITORS[broker] = monitor


def monitor_of(broker: KafkaBroker) -> BackendMonitor | None:
    return _MONITORS.get(broker)
