"""``actions``: each improvement action, its status, dates and evaluation. Pure.

Status, owner and due date are guarded by the action's revision; the date of each status
and the latest evaluation are kept whatever the order events arrive in. What people wrote
(measures, objective, analysis of causes, stakeholders informed) comes with the creation
and each update (contracts 1.1; absent from older producers), the KPI as figures
(``kpi_target``) so that documents say it in words, and who validated it with the
validation.
"""

from __future__ import annotations

from boucle_contracts.actions.v1 import (
    ActionStatus,
    ImprovementActionCreatedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitionedV1,
    ImprovementActionUpdatedV1,
    KpiTarget,
    StakeholderNotice,
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


def _kpi_target(kpi: KpiTarget | None) -> Document | None:
    return kpi.model_dump(mode="json") if kpi is not None else None


def _written(
    *,
    measures: tuple[str, ...],
    objective: str | None,
    analysis: str | None,
    notices: tuple[StakeholderNotice, ...],
    fields: tuple[str, ...] | None = None,
) -> Document:
    """What people wrote: set when present, or when the update says it changed (cleared)."""
    changed = set(fields or ())
    values: Document = {}
    if measures or "measures" in changed:
        values["measures"] = list(measures)
    if objective is not None or "objective" in changed:
        values["objective"] = objective
    if analysis is not None or "root_cause_analysis" in changed:
        values["root_cause_analysis"] = analysis
    if notices or "stakeholders_informed" in changed:
        values["stakeholders_informed"] = [n.model_dump(mode="json") for n in notices]
    return values


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
                "kpi_target": _kpi_target(action.kpi),
                f"at.{action.status.value}": action.created_at,
                "case_ids": list(action.case_ids),
                "meeting_id": action.meeting_id,
                **_written(
                    measures=action.measures,
                    objective=action.objective,
                    analysis=action.root_cause_analysis,
                    notices=(),
                ),
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
    if move.to_status is ActionStatus.VALIDATED:
        changes["validated_by"] = move.actor
        changes["validated_at"] = move.at
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
                "evaluation_figures": {
                    "metric": evaluation.metric.value,
                    "before": evaluation.before.value,
                    "before_n": evaluation.before.sample_size,
                    "after": evaluation.after.value,
                    "after_n": evaluation.after.sample_size,
                    "p_value": evaluation.test.p_value if evaluation.test else None,
                },
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
    if update.kpi is not None:
        changes["kpi"] = _kpi(update.kpi)
        changes["kpi_target"] = _kpi_target(update.kpi)
    changes |= _written(
        measures=update.measures,
        objective=update.objective,
        analysis=update.root_cause_analysis,
        notices=update.stakeholders_informed,
        fields=update.fields,
    )
    action_key = key(event, update.action_id)
    return [Write("actions", action_key, fields=changes, newer_than=("revision", update.revision))]
