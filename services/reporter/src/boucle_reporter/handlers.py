"""Contract in, read model out: every event is evidence; some also shape the documents."""

from __future__ import annotations

from boucle_contracts.cases.v1 import ComplaintCaseOpenedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.registry import ALL_EVENTS, AnyEvent
from boucle_reporter.domain.ports import ReadModel
from boucle_reporter.metrics import ReporterMetrics
from boucle_runtime.consumer import Consumers
from boucle_runtime.logging import get_logger

log = get_logger(__name__)


class EvidenceRecorder:
    def __init__(self, *, read_model: ReadModel, metrics: ReporterMetrics) -> None:
        self._read_model = read_model
        self._metrics = metrics

    async def on_event(self, event: AnyEvent) -> None:
        recorded = await self._read_model.record_evidence(event=event)
        self._metrics.evidence.labels(event.type, "recorded" if recorded else "duplicate").inc()
        if isinstance(event, ScopeMetricsUpdatedV1):
            await self._read_model.keep_analysis(snapshot=event.data)
        elif isinstance(event, ComplaintCaseOpenedV1):
            await self._read_model.keep_case(
                case=event.data, network_id=event.network_id, site_id=event.site_id
            )


def subscribe(consumers: Consumers, recorder: EvidenceRecorder) -> None:
    """The reporter reads every event of every topic: all of it is audit evidence."""

    @consumers.subscriber(handles=ALL_EVENTS)
    async def on_event(event: AnyEvent) -> None:
        await recorder.on_event(event)
