"""From an aggregate's integer counters to the published figures and KPIs. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boucle_analyzer.domain.aggregation import OVERALL, DimensionDelta, figures_of
from boucle_analyzer.domain.ratings import MILLI
from boucle_contracts.common import Period, RespondentRole
from boucle_contracts.metrics.v1 import (
    CountByLabel,
    Granularity,
    NpsFigures,
    RoleFigures,
    ScopeKpis,
    ScopeMetricsUpdated,
)
from boucle_contracts.scope import Scope

Counts = Mapping[str, int]
# Roots of the counter paths an aggregate document holds (everything else is bookkeeping).
COUNTER_ROOTS = (
    "responses",
    "dims",
    "nps",
    "roles",
    "complaints",
    "complaints_by_role",
    "hazards",
    "enrolments",
    "sessions_completed",
    "learners_completed",
    "dropouts",
    "dropout_reasons",
    "themes",
    "negative_comments",
)


def flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, int]:
    """Nested counters (as MongoDB stores ``$inc`` on dotted paths) back to dotted paths."""
    flat: dict[str, int] = {}
    for name, value in document.items():
        if not prefix and name not in COUNTER_ROOTS:
            continue
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{prefix}{name}.")
        elif isinstance(value, int) and not isinstance(value, bool):
            flat[f"{prefix}{name}"] = value
    return flat


def _children(counts: Counts, prefix: str) -> dict[str, dict[str, int]]:
    """``{prefix}<child>.<rest>`` → {child: {rest: value}}."""
    tree: dict[str, dict[str, int]] = {}
    for path, value in counts.items():
        if path.startswith(prefix):
            child, _, rest = path[len(prefix) :].partition(".")
            tree.setdefault(child, {})[rest] = value
    return tree


def _dimension(sums: Mapping[str, int]) -> DimensionDelta:
    return DimensionDelta(
        count=sums.get("count", 0),
        total_milli=sums.get("total_milli", 0),
        squares_micro=sums.get("squares_micro", 0),
        satisfied=sums.get("satisfied", 0),
    )


def _nps(counts: Counts, prefix: str) -> NpsFigures:
    return NpsFigures(
        promoters=counts.get(f"{prefix}promoters", 0),
        passives=counts.get(f"{prefix}passives", 0),
        detractors=counts.get(f"{prefix}detractors", 0),
    )


def _labels(counts: Counts, prefix: str) -> tuple[CountByLabel, ...]:
    return tuple(
        CountByLabel(label=path[len(prefix) :], count=value)
        for path, value in sorted(counts.items())
        if path.startswith(prefix) and value
    )


def dimensions_of(counts: Counts) -> dict[str, DimensionDelta]:
    return {name: _dimension(sums) for name, sums in _children(counts, "dims.").items()}


def _ratio(numerator: int, denominator: int, scale: float = 1.0) -> float | None:
    return scale * numerator / denominator if denominator else None


def kpis_of(counts: Counts) -> ScopeKpis:
    overall = dimensions_of(counts).get(OVERALL)
    enrolments = counts.get("enrolments", 0)
    return ScopeKpis(
        mean_satisfaction=(
            overall.total_milli / MILLI / overall.count if overall and overall.count else None
        ),
        satisfaction_rate=_ratio(overall.satisfied, overall.count) if overall else None,
        nps=_nps(counts, "nps.").score,
        learner_response_rate=_ratio(counts.get("roles.learner.responses", 0), enrolments),
        complaints_per_100_learners=_ratio(counts.get("complaints", 0), enrolments, 100.0),
        dropout_rate=_ratio(counts.get("dropouts", 0), enrolments),
    )


def snapshot_from(
    *,
    scope: Scope,
    granularity: Granularity,
    period: Period,
    counts: Counts,
    revision: int,
    last_event_id: str,
) -> ScopeMetricsUpdated:
    roles = _children(counts, "roles.")
    return ScopeMetricsUpdated(
        scope=scope,
        granularity=granularity,
        period=period,
        responses=counts.get("responses", 0),
        dimensions=tuple(
            figures_of(name, dim) for name, dim in sorted(dimensions_of(counts).items())
        ),
        revision=revision,
        last_event_id=last_event_id,
        nps=_nps(counts, "nps."),
        by_role=tuple(
            RoleFigures(
                role=RespondentRole(role),
                responses=sums.get("responses", 0),
                overall_count=sums.get("count", 0),
                overall_total=sums.get("total_milli", 0) / MILLI,
                overall_total_squares=sums.get("squares_micro", 0) / (MILLI * MILLI),
                overall_satisfied=sums.get("satisfied", 0),
                nps=_nps(sums, "nps."),
            )
            for role, sums in sorted(roles.items())
        ),
        complaints=counts.get("complaints", 0),
        complaints_by_role=_labels(counts, "complaints_by_role."),
        hazards=counts.get("hazards", 0),
        enrolments=counts.get("enrolments", 0),
        sessions_completed=counts.get("sessions_completed", 0),
        learners_completed=counts.get("learners_completed", 0),
        dropouts=counts.get("dropouts", 0),
        dropout_reasons=_labels(counts, "dropout_reasons."),
        negative_comments=counts.get("negative_comments", 0),
        comment_themes=_labels(counts, "themes."),
        kpis=kpis_of(counts),
    )
