"""How each event shapes the read model, as idempotent single-document writes. Pure.

A :class:`Write` is one upsert of one document: fields to set, fields set only when the
document is created, counters to increment and members to add to sets. A write may be
*guarded*: applied only if the stored value of a field is lower than the write's (a newer
revision, a later evidence sequence number). Guards make redeliveries harmless: counters
are guarded by the event's sequence number in the evidence log, so an event counted once
is never counted again, with no transaction (FerretDB has none).

Documents are grouped by collection: ``sites``, ``analyses``, ``counts``, ``complaints``,
``incidents``, ``cases``, ``actions``, ``degradations``; every document carries
``network_id`` and ``site_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from boucle_contracts.actions.v1 import (
    ImprovementActionCreatedV1,
    ImprovementActionEvaluatedV1,
    ImprovementActionTransitionedV1,
)
from boucle_contracts.cases.v1 import (
    ComplaintCaseOpenedV1,
    ComplaintCaseOverdueV1,
    ComplaintCaseTransitionedV1,
)
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1
from boucle_contracts.training.v1 import (
    DropoutRecordedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
)
from boucle_reporter.domain.model import month_of

Document = dict[str, Any]
NEW_ENTITY = {"revision": 0}


@dataclass(frozen=True, slots=True)
class Write:
    collection: str
    key: str
    fields: Document = field(default_factory=dict)
    on_insert: Document = field(default_factory=dict)
    increments: dict[str, int] = field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    newer_than: tuple[str, int] | None = None  # (field, value): only if stored field < value

    def new_document(self) -> Document:
        """The document this write creates when there is none yet."""
        document: Document = {"_id": self.key}
        values: list[tuple[str, Any]] = [
            *self.on_insert.items(),
            *self.fields.items(),
            *self.increments.items(),
            *((path, list(dict.fromkeys(members))) for path, members in self.members.items()),
        ]
        if self.newer_than:
            values.append(self.newer_than)
        for path, value in values:
            set_path(document, path, value)
        return document


def set_path(document: Document, path: str, value: Any) -> None:
    """``document["a"]["b"] = value`` for the dotted path ``a.b``."""
    *parents, last = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[last] = value


def _tenant(event: AnyEvent) -> Document:
    return {"network_id": event.network_id, "site_id": event.site_id}


def _key(event: AnyEvent, *parts: str) -> str:
    return "|".join((event.network_id, *parts))


def _count(  # noqa: PLR0917
    event: AnyEvent,
    seq: int,
    family: str,
    moment: datetime,
    increments: dict[str, int],
    members: dict[str, tuple[str, ...]] | None = None,
) -> Write:
    month = month_of(moment)
    return Write(
        "counts",
        _key(event, event.site_id or "-", month, family),
        fields={**_tenant(event), "month": month, "family": family},
        increments=increments,
        members={k: v for k, v in (members or {}).items() if v},
        newer_than=("seq", seq),
    )


def writes_for(event: AnyEvent, seq: int) -> list[Write]:
    """The read-model writes of one event recorded at ``seq`` in its network's evidence log."""
    writes = (
        [Write("sites", _key(event, event.site_id), fields=_tenant(event))]
        if (event.site_id)
        else []
    )
    return writes + _writes(event, seq)


ACTION_UPDATED = "fr.boucle.actions.improvement_action_updated.v1"


def _action_updated(event: AnyEvent) -> list[Write]:
    """An action's written fields changed (a newer contract type, read defensively)."""
    data = event.data
    action_id, revision = getattr(data, "action_id", None), getattr(data, "revision", None)
    if not isinstance(action_id, str) or not isinstance(revision, int):
        return []
    changes: Document = {}
    for name in ("title", "owner"):
        if isinstance(value := getattr(data, name, None), str):
            changes[name] = value
    if isinstance(due := getattr(data, "due_date", None), date):
        changes["due_date"] = due.isoformat()
    if isinstance(analysis := getattr(data, "root_cause_analysis", None), str):
        changes["root_cause_analysis"] = analysis
    key = _key(event, action_id)
    return [Write("actions", key, fields=changes, newer_than=("revision", revision))]


def _writes(event: AnyEvent, seq: int) -> list[Write]:  # noqa: PLR0911, PLR0912
    tenant = _tenant(event)
    if isinstance(event, SurveyResponseSubmittedV1):
        response = event.data
        return [
            _count(
                event,
                seq,
                "feedback",
                response.submitted_at,
                {f"responses.{response.respondent_role.value}": 1},
            )
        ]
    if isinstance(event, EnrolmentRecordedV1):
        enrolment = event.data
        funder = enrolment.funder_id or (
            f"{enrolment.funding.value}" if enrolment.funding else None
        )
        return [
            _count(
                event,
                seq,
                "training",
                enrolment.enrolled_at,
                {"enrolments": 1},
                {
                    "funders": (funder,) if funder else (),
                    "companies": (enrolment.company_id,) if enrolment.company_id else (),
                    "trainers": enrolment.training.trainer_ids,
                },
            )
        ]
    if isinstance(event, SessionCompletedV1):
        session = event.data
        return [
            _count(
                event,
                seq,
                "training",
                session.completed_at,
                {"learners_completed": session.learners_completed},
                {"trainers": session.trainer_ids},
            )
        ]
    if isinstance(event, DropoutRecordedV1):
        dropout = event.data
        return [
            _count(
                event,
                seq,
                "training",
                dropout.dropped_at,
                {f"dropouts.{dropout.reason.value}": 1},
                {"trainers": dropout.training.trainer_ids},
            )
        ]
    if isinstance(event, ScopeMetricsUpdatedV1):
        snapshot = event.data
        scope = snapshot.scope
        if not (
            snapshot.granularity is Granularity.MONTH
            and scope.level is ScopeLevel.SITE
            and scope.respondent_role is None
            and scope.dimension is None
        ):
            return []
        return [
            Write(
                "analyses",
                snapshot.key,
                fields={
                    "network_id": scope.network_id,
                    "site_id": scope.site_id,
                    "month": month_of(snapshot.period.start),
                    "responses": snapshot.responses,
                    "dimensions": [d.model_dump(mode="json") for d in snapshot.dimensions],
                },
                newer_than=("revision", snapshot.revision),
            )
        ]
    if isinstance(event, ComplaintReceivedV1):
        complaint = event.data
        return [
            Write(
                "complaints",
                _key(event, complaint.complaint_id),
                fields={
                    **tenant,
                    "complaint_id": complaint.complaint_id,
                    "received_at": complaint.received_at,
                    "channel": complaint.channel.value,
                    "role": complaint.complainant_role.value,
                    "subject": complaint.subject,
                    "category": complaint.category_hint,
                },
            )
        ]
    if isinstance(event, HazardReportedV1):
        incident = event.data
        return [
            Write(
                "incidents",
                _key(event, incident.incident_id),
                fields={
                    **tenant,
                    "incident_id": incident.incident_id,
                    "kind": incident.kind.value,
                    "occurred_at": incident.occurred_at,
                    "summary": incident.summary,
                    "category": incident.category_hint,
                },
            )
        ]
    if isinstance(event, ComplaintCaseOpenedV1):
        case = event.data
        return [
            Write(
                "cases",
                _key(event, case.case_id),
                fields={
                    **tenant,
                    "case_id": case.case_id,
                    "source": case.source.value,
                    "source_ref": case.source_ref,
                    "opened_at": case.opened_at,
                    "summary": case.summary,
                    "category": case.category,
                    "acknowledge_due_at": case.acknowledge_due_at,
                    "answer_due_at": case.answer_due_at,
                },
                on_insert={"status": "received", **NEW_ENTITY},
            )
        ]
    if isinstance(event, ComplaintCaseTransitionedV1):
        step = event.data
        key = _key(event, step.case_id)
        details = {"root_cause": step.root_cause, "answer": step.answer}
        return [
            Write(
                "cases",
                key,
                fields={
                    **tenant,
                    f"at.{step.to_status.value}": step.at,
                    **{k: v for k, v in details.items() if v},
                },
                on_insert=NEW_ENTITY,
                members={"action_ids": step.action_ids} if step.action_ids else {},
            ),
            Write(
                "cases",
                key,
                fields={"status": step.to_status.value},
                newer_than=("revision", step.revision),
            ),
        ]
    if isinstance(event, ComplaintCaseOverdueV1):
        overdue = event.data
        return [
            Write(
                "cases",
                _key(event, overdue.case_id),
                fields={**tenant, f"overdue.{overdue.deadline}": overdue.detected_at},
                on_insert={"status": "received", **NEW_ENTITY},
            )
        ]
    if isinstance(event, ImprovementActionCreatedV1):
        action = event.data
        kpi = action.kpi
        return [
            Write(
                "actions",
                _key(event, action.action_id),
                fields={
                    **tenant,
                    "action_id": action.action_id,
                    "title": action.title,
                    "problem": action.problem,
                    "origin": action.origin.value,
                    "source_kinds": [s.kind for s in action.sources],
                    "source_refs": [s.ref for s in action.sources],
                    "created_at": action.created_at,
                    "kpi": (
                        f"{kpi.metric.value}"
                        + (f" ({kpi.dimension})" if kpi.dimension else "")
                        + (
                            f": {kpi.baseline:g} → {kpi.target:g}"
                            if kpi.baseline is not None
                            else f" → {kpi.target:g}"
                        )
                    )
                    if kpi
                    else "",
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
    if isinstance(event, ImprovementActionTransitionedV1):
        move = event.data
        key = _key(event, move.action_id)
        changes: Document = {"status": move.to_status.value}
        if move.owner:
            changes["owner"] = move.owner
        if move.due_date:
            changes["due_date"] = move.due_date.isoformat()
        return [
            Write(
                "actions",
                key,
                fields={**tenant, f"at.{move.to_status.value}": move.at},
                on_insert=NEW_ENTITY,
            ),
            Write("actions", key, fields=changes, newer_than=("revision", move.revision)),
        ]
    if isinstance(event, ImprovementActionEvaluatedV1):
        evaluation = event.data
        summary = (
            f"{evaluation.metric.value}: {evaluation.before.value:.2f} "
            f"(n={evaluation.before.sample_size}) → {evaluation.after.value:.2f} "
            f"(n={evaluation.after.sample_size})"
        )
        return [
            Write(
                "actions",
                _key(event, evaluation.action_id),
                fields={
                    **tenant,
                    "outcome": evaluation.outcome,
                    "evaluated_at": evaluation.evaluated_at,
                    "evaluation": summary,
                },
                on_insert=NEW_ENTITY,
            )
        ]
    if isinstance(event, DegradationDetectedV1):
        signal = event.data
        return [
            Write(
                "degradations",
                _key(event, signal.degradation_id),
                fields={
                    "network_id": event.network_id,
                    "site_id": signal.scope.site_id or event.site_id,
                    "degradation_id": signal.degradation_id,
                    "metric": signal.metric.value,
                    "dimension": signal.dimension or signal.scope.dimension,
                    "severity": signal.severity.value,
                    "detected_at": signal.detected_at,
                    "baseline": signal.baseline.value,
                    "current": signal.current.value,
                    "themes": [t.theme for t in signal.themes],
                },
            )
        ]
    if isinstance(event, DegradationResolvedV1):
        resolved = event.data
        return [
            Write(
                "degradations",
                _key(event, resolved.degradation_id),
                fields={
                    "network_id": event.network_id,
                    "site_id": resolved.scope.site_id or event.site_id,
                    "resolved_at": resolved.resolved_at,
                },
            )
        ]
    if event.type == ACTION_UPDATED:
        return _action_updated(event)
    return []
