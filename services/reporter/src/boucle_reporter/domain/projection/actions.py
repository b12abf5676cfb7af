"""``actions``: each improvement action, its status, dates and evaluation. Pure.

Status, owner and due date are guarded by the action's revision; the date of each status
and the latest evaluation are kept whatever the order events arrive in.
"""

from __future__ import annotations

from boucle_contracts.actions.v1 import (
    ImprovementActionCreatedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitionedV1,
    ImprovementActionUpdatedV1,
    KpiTarget,
)
from boucle_reporter.domain.projection.write import NEW_ENTITY, Document, Write, key, tenant


def _kpi(kpi: KpiTarget | None) -> str:
    """``metric (dimension): baseline → target``, as the tracking table shows it."""
    if kpi is None:
        return ""
    dimension = f" ({kpi.dimension})" if kpi.dimension else ""
    target = (
        f": {kpi.baseline:g} → {kpi.target:g}" if kpi.baseline is not None else f" → {kpi.target:g}"
    )
    return f"{kpi.metric.value}{dimension}{target}"


def action_created(event: ImprovementActionCreatedV1, _seq: int) -> list[Write]:
    action = event.data
    return [
        Write(
            "actions",
            key(event, action.action_id),
            fields={
                **tenant(event),
                "action_id": action.action_id,
                "title": action.title,
                "problem": action.problem,
                "origin": action.origin.value,
                "source_kinds": [s.kind for s in action.sources],
                "source_refs": [s.ref for s in action.sources],
                "created_at": action.created_at,
                "kpi": _kpi(action.kpi),
                f"at.{action.status.value}": action.created_at,
            },
            on_insert={
                "status": action.status.value,
                "owner": action.owner,
                "due_date": action.due_date.isoformat() if action.due_date else None,
                **NEW_ENTITY,
            },
        )
    ]


def action_transitioned(event: ImprovementActionTransitionedV1, _seq: int) -> list[Write]:
    move = event.data
    action_key = key(event, move.action_id)
    changes: Document = {"status": move.to_status.value}
    if move.owner:
        changes["owner"] = move.owner
    if move.due_date:
        changes["due_date"] = move.due_date.isoformat()
    return [
        Write(
            "actions",
            action_key,
            fields={**tenant(event), f"at.{move.to_status.value}": move.at},
            on_insert=NEW_ENTITY,
        ),
        Write("actions", action_key, fields=changes, newer_than=("revision", move.revision)),
    ]


def action_evaluated(event: ImprovementActionEvaluatedV1, _seq: int) -> list[Write]:
    evaluation = event.data
    summary = (
        f"{evaluation.metric.value}: {evaluation.before.value:.2f} "
        f"(n={evaluation.before.sample_size}) → {evaluation.after.value:.2f} "
        f"(n={evaluation.after.sample_size})"
    )
    return [
        Write(
            "actions",
            key(event, evaluation.action_id),
            fields={
                **tenant(event),
                "outcome": evaluation.outcome,
                "evaluated_at": evaluation.evaluated_at,
                "evaluation": summary,
            },
            on_insert=NEW_ENTITY,
        )
    ]


def action_updated(event: ImprovementActionUpdatedV1, _seq: int) -> list[Write]:
    """An action's written fields changed (no status change): the ones it carries."""
    update = event.data
    changes: Document = {"title": update.title}
    if update.owner is not None:
        changes["owner"] = update.owner
    if update.due_date is not None:
        changes["due_date"] = update.due_date.isoformat()
    if update.root_cause_analysis is not None:
        changes["root_cause_analysis"] = update.root_cause_analysis
    action_key = key(event, update.action_id)
    return [Write("actions", action_key, fields=changes, newer_than=("revision", update.revision))]
