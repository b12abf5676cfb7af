"""Problems (degradations grouped by cause) as the quality lead reads them. Pure.

The analyzer publishes problems on the broker but has no HTTP endpoint for them; the
actions service drafts one improvement action per problem and keeps the problem it was
made from (``evidence``: the ``problem_opened`` data). The console reads problems from
those drafts, with the user's token, so what someone sees is what the actions API lets them
read. A problem's "plan" is its draft: turning the problem into a plan fills the draft in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boucle_console.domain.actions import ActionView

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SYSTEM_ACTOR = "boucle-actions"  # who writes the problem's updates on its draft
# Where the plan stands, in three words a filter can offer.
PLAN_STAGE = {
    "draft": "to_plan",
    "reopened": "to_plan",
    "proposed": "planned",
    "validated": "planned",
    "in_progress": "planned",
    "done": "planned",
    "not_effective": "planned",
    "effective": "closed",
    "cancelled": "closed",
}


@dataclass(frozen=True, slots=True)
class Place:
    """An attributed scope: a site, a programme or a trainer at a site, or the network."""

    level: str
    site_id: str | None
    programme_id: str | None
    trainer_id: str | None


@dataclass(frozen=True, slots=True)
class Figure:
    """One degradation of the problem: the metric's baseline and current value, with n."""

    metric: str
    dimension: str | None
    site_id: str | None
    baseline: float
    baseline_n: int
    current: float
    current_n: int
    p_value: float | None  # the smallest adjusted p-value of its tests, when known
    severity: str


@dataclass(frozen=True, slots=True)
class Theme:
    theme: str
    share: float
    comments: int


@dataclass(frozen=True, slots=True)
class ProblemView:
    problem_id: str
    action: ActionView  # the draft made from it, later the plan
    places: tuple[Place, ...]
    severity: str
    detected_at: datetime
    figures: tuple[Figure, ...]
    themes: tuple[Theme, ...]
    example_comment_ids: tuple[str, ...]
    complaint_ids: tuple[str, ...]
    emerging_terms: tuple[str, ...]
    resolved: bool

    @property
    def sites(self) -> tuple[str, ...]:
        found = [p.site_id for p in self.places if p.site_id]
        found += [f.site_id for f in self.figures if f.site_id]
        return tuple(dict.fromkeys(found))

    @property
    def stage(self) -> str:
        return PLAN_STAGE.get(self.action.status, "planned")

    @property
    def main(self) -> Figure | None:
        return self.figures[0] if self.figures else None


def _place(scope: Mapping[str, Any]) -> Place:
    return Place(
        level=str(scope.get("level", "network")),
        site_id=scope.get("site_id"),
        programme_id=scope.get("programme_id"),
        trainer_id=scope.get("trainer_id"),
    )


def _figure(data: Mapping[str, Any]) -> Figure:
    tests = data.get("tests") or ()
    p_values = [
        t.get("adjusted_p_value") if t.get("adjusted_p_value") is not None else t.get("p_value")
        for t in tests
    ]
    known = [float(p) for p in p_values if p is not None]
    return Figure(
        metric=str(data["metric"]),
        dimension=data.get("dimension"),
        site_id=(data.get("scope") or {}).get("site_id"),
        baseline=float(data["baseline"]["value"]),
        baseline_n=int(data["baseline"]["sample_size"]),
        current=float(data["current"]["value"]),
        current_n=int(data["current"]["sample_size"]),
        p_value=min(known) if known else None,
        severity=str(data.get("severity", "medium")),
    )


def _resolved(action: ActionView, problem_id: str) -> bool:
    """The actions service notes a problem's resolution as a comment on its draft."""
    mark = f"Problème {problem_id} résolu"
    return any(by == SYSTEM_ACTOR and text.startswith(mark) for by, _, text in action.comments)


def problem_of(action: ActionView) -> ProblemView | None:
    """The problem a draft was made from; None for any other action."""
    data = action.evidence
    if not data or "problem_id" not in data or not data.get("scopes"):
        return None
    problem_id = str(data["problem_id"])
    return ProblemView(
        problem_id=problem_id,
        action=action,
        places=tuple(_place(s) for s in data["scopes"]),
        severity=str(data.get("severity", "medium")),
        detected_at=datetime.fromisoformat(str(data.get("detected_at") or action.created_at)),
        figures=tuple(_figure(d) for d in data.get("degradations", ())),
        themes=tuple(
            Theme(str(t["theme"]), float(t["share"]), int(t.get("comment_count", 0)))
            for t in data.get("themes", ())
        ),
        example_comment_ids=tuple(data.get("example_comment_ids", ())),
        complaint_ids=tuple(data.get("complaint_ids", ())),
        emerging_terms=tuple(data.get("emerging_terms", ())),
        resolved=_resolved(action, problem_id),
    )


def risk_key(problem: ProblemView) -> tuple[int, int, int, int, float]:
    """Most at risk first: unresolved, severity, sites concerned, degradations, newest."""
    return (
        int(problem.resolved),
        SEVERITY_RANK.get(problem.severity, len(SEVERITY_RANK)),
        -len(problem.sites),
        -len(problem.figures),
        -problem.detected_at.timestamp(),
    )


def ranked(
    actions: Iterable[ActionView], *, site: str | None = None, stage: str | None = None
) -> list[ProblemView]:
    """Problems by risk, across sites, optionally one site's or one stage's only."""
    found = [p for p in (problem_of(a) for a in actions) if p is not None]
    if site:
        found = [p for p in found if site in p.sites]
    if stage:
        found = [p for p in found if p.stage == stage]
    return sorted(found, key=risk_key)


def sites_of(problems: Sequence[ProblemView]) -> list[str]:
    """Every site concerned, for the filter."""
    return sorted({s for p in problems for s in p.sites})


def split_lines(text: str | None) -> tuple[str, ...]:
    """A textarea with one item a line (measures, attendees, decisions), blanks dropped."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())
