"""Contract in, evidence and read model out: every event is recorded, then projected."""

from __future__ import annotations

from boucle_contracts.registry import ALL_EVENTS, AnyEvent
from boucle_reporter.domain.ports import EvidenceLog, ReadModel
from boucle_reporter.domain.projection import writes_for
from boucle_reporter.metrics import ReporterMetrics
from boucle_runtime.consumer import Consumers
from boucle_runtime.erasure import ErasureFollower


class EvidenceRecorder:
    """Append to the network's hash chain first, then project with its sequence number.

    A redelivered event comes back with its first sequence number, so the projection's
    guarded writes (counters, revisions) ignore what they already applied.
    """

    def __init__(
        self,
        *,
        evidence: EvidenceLog,
        read_model: ReadModel,
        metrics: ReporterMetrics,
        erasure: ErasureFollower | None = None,
    ) -> None:
        self._evidence = evidence
        self._read_model = read_model
        self._metrics = metrics
        self._erasure = erasure

    async def on_event(self, event: AnyEvent) -> None:
        seq, recorded = await self._evidence.append(event=event)
        self._metrics.evidence.labels(event.type, "recorded" if recorded else "duplicate").inc()
        await self._read_model.apply(writes_for(event, seq))
        if self._erasure is not None:  # an erasure request, or a late event of an erased subject
            await self._erasure.after(event)


def subscribe(consumers: Consumers, recorder: EvidenceRecorder) -> None:
    """The reporter reads every event of every topic: all of it is audit evidence."""

    @consumers.subscriber(handles=ALL_EVENTS)
    async def on_event(event: AnyEvent) -> None:
        await recorder.on_event(event)
