"""``incidents``: one document per hazard or difficulty reported. Pure."""

from __future__ import annotations

from boucle_contracts.incidents.v1 import HazardReportedV1
from boucle_reporter.domain.projection.write import Write, key, tenant


def hazard_reported(event: HazardReportedV1, _seq: int) -> list[Write]:
    incident = event.data
    return [
        Write(
            "incidents",
            key(event, incident.incident_id),
            fields={
                **tenant(event),
                "incident_id": incident.incident_id,
                "kind": incident.kind.value,
                "occurred_at": incident.occurred_at,
                "summary": incident.summary,
                "category": incident.category_hint,
            },
        )
    ]
