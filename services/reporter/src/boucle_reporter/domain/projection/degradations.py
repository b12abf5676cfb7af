"""``degradations``: each degradation the analyzer opened, and when it closed. Pure."""

from __future__ import annotations

from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_reporter.domain.projection.write import Document, Write, key


def _where(event: AnyEvent, scope: Scope) -> Document:
    """Where the degradation is: its scope's site, else the event's."""
    return {"network_id": event.network_id, "site_id": scope.site_id or event.site_id}


def degradation_detected(event: DegradationDetectedV1, _seq: int) -> list[Write]:
    degradation = event.data
    return [
        Write(
            "degradations",
            key(event, degradation.degradation_id),
            fields={
                **_where(event, degradation.scope),
                "degradation_id": degradation.degradation_id,
                "metric": degradation.metric.value,
                "dimension": degradation.dimension or degradation.scope.dimension,
                "severity": degradation.severity.value,
                "detected_at": degradation.detected_at,
                "baseline": degradation.baseline.value,
                "current": degradation.current.value,
                "baseline_n": degradation.baseline.sample_size,
                "current_n": degradation.current.sample_size,
                "themes": [t.theme for t in degradation.themes],
            },
        )
    ]


def degradation_resolved(event: DegradationResolvedV1, _seq: int) -> list[Write]:
    resolved = event.data
    return [
        Write(
            "degradations",
            key(event, resolved.degradation_id),
            fields={**_where(event, resolved.scope), "resolved_at": resolved.resolved_at},
        )
    ]
