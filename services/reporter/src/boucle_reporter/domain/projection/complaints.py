"""``complaints``: one document per complaint received (the register's rows). Pure."""

from __future__ import annotations

from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_reporter.domain.projection.write import Write, key, tenant


def complaint_received(event: ComplaintReceivedV1, _seq: int) -> list[Write]:
    complaint = event.data
    return [
        Write(
            "complaints",
            key(event, complaint.complaint_id),
            fields={
                **tenant(event),
                "complaint_id": complaint.complaint_id,
                "received_at": complaint.received_at,
                "channel": complaint.channel.value,
                "role": complaint.complainant_role.value,
                "subject": complaint.subject,
                "category": complaint.category_hint,
            },
        )
    ]
