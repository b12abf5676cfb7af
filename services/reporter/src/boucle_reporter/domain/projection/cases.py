"""``cases``: each complaint, hazard or difficulty case, from opening to closure. Pure.

The status is guarded by the case's revision (a late, older transition never moves it
back); the date of each status, the answer, the root cause and the linked actions are
kept whatever the order events arrive in, so a transition seen before the opening still
leaves its trace.
"""

from __future__ import annotations

from boucle_contracts.cases.v1 import (
    ComplaintCaseOpenedV1,
    ComplaintCaseOverdueV1,
    ComplaintCaseTransitionedV1,
)
from boucle_reporter.domain.projection.write import NEW_ENTITY, Write, key, tenant

# A case first seen by its opening or by an overdue deadline starts as received.
NEW_CASE = {"status": "received", **NEW_ENTITY}


def case_opened(event: ComplaintCaseOpenedV1, _seq: int) -> list[Write]:
    case = event.data
    return [
        Write(
            "cases",
            key(event, case.case_id),
            fields={
                **tenant(event),
                "case_id": case.case_id,
                "source": case.source.value,
                "source_ref": case.source_ref,
                "opened_at": case.opened_at,
                "summary": case.summary,
                "category": case.category,
                "acknowledge_due_at": case.acknowledge_due_at,
                "answer_due_at": case.answer_due_at,
            },
            on_insert=NEW_CASE,
        )
    ]


def case_transitioned(event: ComplaintCaseTransitionedV1, _seq: int) -> list[Write]:
    step = event.data
    case_key = key(event, step.case_id)
    details = {"root_cause": step.root_cause, "answer": step.answer}
    return [
        Write(
            "cases",
            case_key,
            fields={
                **tenant(event),
                f"at.{step.to_status.value}": step.at,
                **{k: v for k, v in details.items() if v},
            },
            on_insert=NEW_ENTITY,
            members={"action_ids": step.action_ids} if step.action_ids else {},
        ),
        Write(
            "cases",
            case_key,
            fields={"status": step.to_status.value},
            newer_than=("revision", step.revision),
        ),
    ]


def case_overdue(event: ComplaintCaseOverdueV1, _seq: int) -> list[Write]:
    overdue = event.data
    return [
        Write(
            "cases",
            key(event, overdue.case_id),
            fields={**tenant(event), f"overdue.{overdue.deadline}": overdue.detected_at},
            on_insert=NEW_CASE,
        )
    ]
