"""``problems``: each problem the analyzer opened (degradations grouped by cause), its
latest state, and when it resolved. Pure.

Problem events carry no site (all events of a problem share one partition key), so the
document names its attributed sites in ``site_ids`` and, when there is exactly one, in
``site_id`` too. Every write is guarded by the event's evidence sequence number: a
redelivered older event never overwrites a newer state.
"""

from __future__ import annotations

from boucle_contracts.problems.v1 import (
    ProblemOpenedV1,
    ProblemResolvedV1,
    ProblemState,
    ProblemUpdatedV1,
)
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_reporter.domain.projection.write import Document, Write, key

COLLECTION = "problems"


def _where(event: AnyEvent, scopes: tuple[Scope, ...]) -> Document:
    sites = sorted({s.site_id for s in scopes if s.site_id is not None})
    return {
        "network_id": event.network_id,
        "site_id": sites[0] if len(sites) == 1 else None,
        "site_ids": sites,
        "scopes": [s.key() for s in scopes],
        "network_wide": any(s.level is ScopeLevel.NETWORK for s in scopes),
    }


def _state(event: AnyEvent, problem: ProblemState, seq: int) -> Write:
    return Write(
        COLLECTION,
        key(event, problem.problem_id),
        fields={
            **_where(event, problem.scopes),
            "problem_id": problem.problem_id,
            "open": True,
            "degradation_ids": list(problem.degradation_ids),
            "metrics": [m.value for m in problem.metrics],
            "dimensions": list(problem.dimensions),
            "severity": problem.severity.value,
            "opened_week": problem.opened_week,
            "detected_at": problem.detected_at,
            "themes": [
                {"theme": t.theme, "share": t.share, "comment_count": t.comment_count}
                for t in problem.themes
            ],
            "example_comment_ids": list(problem.example_comment_ids),
            "complaint_ids": list(problem.complaint_ids),
            "hazard_ids": list(problem.hazard_ids),
            "emerging_terms": list(problem.emerging_terms),
        },
        # Every degradation ever grouped in it (the state lists the open ones only): an
        # action taken for the problem addresses those that joined later too.
        members={"all_degradation_ids": tuple(problem.degradation_ids)},
        newer_than=("seq", seq),
    )


def problem_opened(event: ProblemOpenedV1, seq: int) -> list[Write]:
    return [_state(event, event.data, seq)]


def problem_updated(event: ProblemUpdatedV1, seq: int) -> list[Write]:
    write = _state(event, event.data, seq)
    write.fields["updated_at"] = event.data.updated_at
    return [write]


def problem_resolved(event: ProblemResolvedV1, seq: int) -> list[Write]:
    resolved = event.data
    return [
        Write(
            COLLECTION,
            key(event, resolved.problem_id),
            fields={
                "network_id": event.network_id,
                "problem_id": resolved.problem_id,
                "open": False,
                "resolved_at": resolved.resolved_at,
                "opened_week": resolved.opened_week,
            },
            on_insert=_where(event, resolved.scopes),
            newer_than=("seq", seq),
        )
    ]
