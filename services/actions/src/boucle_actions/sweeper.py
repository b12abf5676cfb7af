"""The periodic sweep: publish leftover outboxes, announce overdue cases, evaluate done
actions whose window has passed, refresh the gauges. Each step is idempotent, so a sweep
cut short by a crash or a database hiccup is simply done again at the next tick."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from boucle_actions.usecases.actions import ActionWorkflow
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.meetings import MeetingWorkflow
from boucle_actions.usecases.outbox import Relay
from boucle_runtime.periodic import BackgroundLoop, every


class Sweeper:
    def __init__(
        self,
        *,
        cases: CaseWorkflow,
        actions: ActionWorkflow,
        meetings: MeetingWorkflow,
        relay: Relay,
        gauges: Callable[[], Awaitable[None]],
    ) -> None:
        self._cases = cases
        self._actions = actions
        self._meetings = meetings
        self._relay = relay
        self._gauges = gauges

    async def sweep(self) -> None:
        await self._relay.drain(self._cases.cases)
        await self._relay.drain(self._actions.actions)
        await self._relay.drain(self._meetings.meetings)
        await self._cases.sweep_overdue()
        await self._actions.sweep_evaluations()
        await self._gauges()

    def loop(self, interval_seconds: float) -> BackgroundLoop:
        """Sweep at start (outboxes a crash left behind go out at once), then every
        ``interval_seconds``; a failing sweep is logged and tried again at the next tick."""
        return every(interval_seconds, self.sweep, name="sweep", at_start=True)
