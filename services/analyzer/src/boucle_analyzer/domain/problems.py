"""Problems: the degradations of a network grouped by the cause they share. Pure.

A drop at one site shows up at the site, at the programme within the site, at the site's
trainer and at the network, for each dimension and for overall satisfaction: one cause,
many degradations. Each week the new degradations join the open problem they belong to, or
open one:

- **place**: the scope hierarchy network ⊃ site ⊃ programme or trainer at the site (a
  trainer is at the sites the runner found for it; one of unknown or several sites is
  placed only with a problem covering all of them);
- **time**: opened within ``join_weeks`` of the problem's latest degradation (they overlap:
  both are open);
- **metrics**: satisfaction metrics (mean, 4-5 share, NPS) are related when one is overall
  (or has no dimension) or both are the same dimension; any two are related when the main
  theme of their comments is the same.

Drops at several sites are one multi-site problem when each is the same drop as one of the
problem's site drops: the same dimension, the same main theme, a related metric, opened
within ``multi_site_weeks`` of each other (one cause, e.g. the online platform failing,
hitting several sites in the same weeks). A problem is attributed to
the most specific scope that explains it: its sites; else its programmes or trainers at a
site; else the network. It stays open while any of its degradations is (hysteresis comes
from the degradations), is updated when some join or leave, resolved when none is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from boucle_contracts.problems.v1 import ProblemDegradation, ProblemState
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import (
    Metric,
    Observation,
    Severity,
    StatisticalTest,
    ThemeShare,
)

WEEK = timedelta(days=7)
PROBLEM_NAMESPACE = uuid.UUID("0f8b2c6d-4a1e-5d3b-9c7f-2e6a8d0b4c19")
SATISFACTION_METRICS = frozenset({Metric.MEAN_SATISFACTION, Metric.SATISFACTION_RATE, Metric.NPS})
GENERAL_DIMENSIONS = frozenset({None, "overall"})
SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
LEVEL_ORDER = {ScopeLevel.SITE: 0, ScopeLevel.PROGRAMME: 1, ScopeLevel.TRAINER: 2}
MAX_EXAMPLES = 5
TOP_THEMES = 5


@dataclass(frozen=True)
class GroupingConfig:
    join_weeks: int = 4  # a degradation opened this long after a problem's latest still joins
    multi_site_weeks: int = 1  # "same weeks" for sites sharing a cause


@dataclass(frozen=True, slots=True)
class Member:
    """One degradation as a problem sees it: where, what, and what the comments say."""

    degradation_id: str
    scope: Scope  # the degradation's scope, without its dimension
    metric: Metric
    dimension: str | None
    opened_week: datetime
    baseline: Observation
    current: Observation
    severity: Severity
    sites: tuple[str, ...] = ()  # site/programme: its site; trainer: where found; network: ()
    tests: tuple[StatisticalTest, ...] = ()
    themes: tuple[ThemeShare, ...] = ()
    example_comment_ids: tuple[str, ...] = ()

    @property
    def main_theme(self) -> str | None:
        return self.themes[0].theme if self.themes else None

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


@dataclass(frozen=True, slots=True)
class Problem:
    problem_id: str
    network_id: str
    opened_week: datetime
    members: tuple[Member, ...]  # its open degradations, in the order they joined
    resolved_week: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_week is None

    @property
    def sites(self) -> frozenset[str]:
        return frozenset(site for m in self.members for site in m.sites)

    @property
    def main(self) -> Member:
        """The degradation that best names the problem: the most severe, most specific."""
        return min(self.members, key=_main_order)

    @property
    def severity(self) -> Severity:
        return max((m.severity for m in self.members), key=SEVERITY_RANK.__getitem__)

    def scopes(self) -> tuple[Scope, ...]:
        return attributed_scopes(self.network_id, self.members)


class ProblemStore(Protocol):
    """Each network's open problems (resolved ones are kept, closed)."""

    async def open_problems(self, *, network_id: str) -> list[Problem]: ...

    async def save(self, *, problems: Sequence[Problem]) -> None: ...


def _main_order(member: Member) -> tuple[int, int, int, str]:
    level = LEVEL_ORDER.get(member.scope.level, 3)
    return (-member.rank, level, member.dimension in GENERAL_DIMENSIONS, member.degradation_id)


def problem_id(network_id: str, founding_degradation_id: str) -> str:
    """Deterministic: a re-run of the same weeks founds the same problem."""
    return str(uuid.uuid5(PROBLEM_NAMESPACE, f"{network_id}|{founding_degradation_id}"))


def related(a: Member, b: Member) -> bool:
    """Whether two degradations may share a cause, by what they measure."""
    if a.main_theme is not None and a.main_theme == b.main_theme:
        return True
    if a.metric in SATISFACTION_METRICS and b.metric in SATISFACTION_METRICS:
        return (
            a.dimension in GENERAL_DIMENSIONS
            or b.dimension in GENERAL_DIMENSIONS
            or a.dimension == b.dimension
        )
    return False


def _site_scope(network_id: str, site_id: str) -> Scope:
    return Scope(level=ScopeLevel.SITE, network_id=network_id, site_id=site_id)


def attributed_scopes(network_id: str, members: Iterable[Member]) -> tuple[Scope, ...]:
    """Its sites; else its programmes or trainers (at their one site when known); else the
    network."""
    members = list(members)
    sites = sorted({m.scope.site_id or "" for m in members if m.scope.level is ScopeLevel.SITE})
    if sites:
        return tuple(_site_scope(network_id, site) for site in sites if site)
    narrow: dict[str, Scope] = {}
    for m in members:
        if m.scope.level is ScopeLevel.PROGRAMME:
            narrow[m.scope.key()] = m.scope
        elif m.scope.level is ScopeLevel.TRAINER:
            scope = m.scope
            if len(m.sites) == 1:
                scope = scope.model_copy(update={"site_id": m.sites[0]})
            narrow[scope.key()] = scope
    if narrow:
        return tuple(narrow[key] for key in sorted(narrow))
    return (Scope(level=ScopeLevel.NETWORK, network_id=network_id),)


def _place(problem: Problem, member: Member, config: GroupingConfig) -> int | None:
    """Where ``member`` stands to ``problem``: 0 inside it, 1 explaining a network-wide
    problem, 2 another site with the same cause; None when it does not belong."""
    sites = problem.sites
    if not member.sites:  # the network, or a trainer found at no site
        wide = member.scope.level is ScopeLevel.NETWORK or not sites
        return 0 if wide and any(related(member, m) for m in problem.members) else None
    if not sites:  # a network-wide problem that a narrower drop explains
        return 1 if any(related(member, m) for m in problem.members) else None
    if set(member.sites) <= sites:
        local = [m for m in problem.members if set(m.sites) & set(member.sites)]
        return 0 if any(related(member, m) for m in local) else None
    # another site: the same cause only when one of the problem's site drops is the same
    # drop: same dimension, same main theme, opened in the same weeks
    same_cause = member.scope.level is ScopeLevel.SITE and any(
        _same_drop(member, m, config) for m in problem.members
    )
    return 2 if same_cause else None


def _same_drop(member: Member, other: Member, config: GroupingConfig) -> bool:
    """Whether two drops at different sites look like one cause hitting both.

    Looser tests (a related metric, overall satisfaction standing for any dimension, the
    problem's opening week rather than the drop's) joined unrelated drops once a network has
    hundreds of sites: two sites' overall satisfaction dropping in the same fortnight is
    then common. What one cause does at several sites is the same drop at each."""
    same_metric = other.metric == member.metric or (
        other.metric in SATISFACTION_METRICS and member.metric in SATISFACTION_METRICS
    )
    return (
        other.scope.level is ScopeLevel.SITE
        and member.main_theme is not None
        and other.main_theme == member.main_theme
        and other.dimension == member.dimension
        and same_metric
        and abs(member.opened_week - other.opened_week) <= config.multi_site_weeks * WEEK
    )


def _candidate(
    problem: Problem, member: Member, config: GroupingConfig
) -> tuple[int, int, int, str] | None:
    """How well ``member`` joins ``problem`` (lower is better), or None if it does not."""
    latest = max(m.opened_week for m in problem.members)
    if abs(member.opened_week - latest) > config.join_weeks * WEEK:
        return None
    place = _place(problem, member, config)
    if place is None:
        return None
    same_dimension = 0 if any(m.dimension == member.dimension for m in problem.members) else 1
    return (place, same_dimension, -problem.main.rank, problem.problem_id)


ChangeKind = Literal["opened", "updated", "resolved"]


@dataclass(frozen=True, slots=True)
class ProblemChange:
    kind: ChangeKind
    problem: Problem  # after the change
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    left_members: tuple[Member, ...] = ()  # what a resolved problem still names


@dataclass
class _Draft:
    problem: Problem
    new: bool
    joined: list[str] = field(default_factory=list)
    left: list[Member] = field(default_factory=list)


def _arrival_order(member: Member) -> tuple[int, int, bool, str]:
    """Sites first (they anchor problems), then programmes and trainers, the network last;
    at each level the most severe, a named dimension before overall."""
    general = member.dimension in GENERAL_DIMENSIONS
    return (LEVEL_ORDER.get(member.scope.level, 3), -member.rank, general, member.degradation_id)


def group_week(
    problems: Sequence[Problem],
    *,
    network_id: str,
    week: datetime,
    opened: Sequence[Member],
    resolved: Collection[str],
    config: GroupingConfig = GroupingConfig(),
) -> list[ProblemChange]:
    """The problem transitions of one week: resolved degradations leave their problem, new
    ones join the problem they belong to or open one. Idempotent: a degradation already in
    a problem does not join again; one in none does not leave."""
    drafts = [_Draft(p, new=False) for p in problems if p.open]
    known = {m.degradation_id for p in problems for m in p.members}
    for draft in drafts:
        leaving = [m for m in draft.problem.members if m.degradation_id in resolved]
        if leaving:
            draft.left = leaving
            kept = tuple(m for m in draft.problem.members if m.degradation_id not in resolved)
            draft.problem = replace(draft.problem, members=kept)
    for member in sorted(opened, key=_arrival_order):
        if member.degradation_id in known:
            continue
        known.add(member.degradation_id)
        ranked = [
            (rank, d)
            for d in drafts
            if d.problem.members and (rank := _candidate(d.problem, member, config)) is not None
        ]
        if ranked:
            _, draft = min(ranked, key=lambda item: item[0])
            draft.problem = replace(draft.problem, members=(*draft.problem.members, member))
            draft.joined.append(member.degradation_id)
            continue
        founded = Problem(
            problem_id=problem_id(network_id, member.degradation_id),
            network_id=network_id,
            opened_week=week,
            members=(member,),
        )
        drafts.append(_Draft(founded, new=True))
    changes: list[ProblemChange] = []
    for draft in drafts:
        left = tuple(m.degradation_id for m in draft.left)
        if draft.new:
            changes.append(ProblemChange("opened", draft.problem))
        elif not draft.problem.members:
            closed = replace(draft.problem, resolved_week=week)
            changes.append(
                ProblemChange("resolved", closed, left=left, left_members=tuple(draft.left))
            )
        elif draft.joined or draft.left:
            changes.append(
                ProblemChange("updated", draft.problem, joined=tuple(draft.joined), left=left)
            )
    return changes


def merged_themes(members: Iterable[Member], *, top: int = TOP_THEMES) -> tuple[ThemeShare, ...]:
    """The themes of the problem's attributed scopes: counts added over distinct scopes, each
    share against the negative comments those scopes counted."""
    counts: dict[str, int] = {}
    negative = 0
    seen: set[str] = set()
    for member in members:
        key = member.scope.key()
        if key in seen or not member.themes:
            continue
        seen.add(key)
        shared = [t for t in member.themes if t.share > 0]
        if shared:  # shares are of the scope's negative comments: recover their number
            negative += max(round(t.comment_count / t.share) for t in shared)
        for theme in member.themes:
            counts[theme.theme] = counts.get(theme.theme, 0) + theme.comment_count
    cited = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return tuple(
        ThemeShare(
            theme=theme,
            share=min(1.0, count / negative) if negative else 0.0,
            comment_count=count,
        )
        for theme, count in cited
    )


def _by_attribution(problem: Problem) -> list[Member]:
    """The members at the attributed scopes first (they name the problem), the most severe
    first."""
    attributed = {s.key() for s in problem.scopes()}

    def order(member: Member) -> tuple[int, bool, int, int, str]:
        at_scope = member.scope.key() in attributed or (
            member.scope.level is ScopeLevel.TRAINER
            and len(member.sites) == 1
            and member.scope.model_copy(update={"site_id": member.sites[0]}).key() in attributed
        )
        # a named dimension says more of the cause than overall satisfaction
        general = member.dimension in GENERAL_DIMENSIONS
        return (0 if at_scope else 1, general, *_main_order(member)[:2], member.degradation_id)

    return sorted(problem.members, key=order)


def example_ids(
    problem: Problem, extra: Iterable[str] = (), *, limit: int = MAX_EXAMPLES
) -> tuple[str, ...]:
    """Up to ``limit`` example comments: the degradations' own first, then ``extra``."""
    ids: dict[str, None] = {}
    for member in _by_attribution(problem):
        ids.update(dict.fromkeys(member.example_comment_ids))
    ids.update(dict.fromkeys(extra))
    return tuple(ids)[:limit]


def _degradation(member: Member) -> ProblemDegradation:
    scope = member.scope
    if member.dimension is not None:
        scope = scope.model_copy(update={"dimension": member.dimension})
    return ProblemDegradation(
        degradation_id=member.degradation_id,
        scope=scope,
        metric=member.metric,
        dimension=member.dimension,
        opened_week=member.opened_week,
        baseline=member.baseline,
        current=member.current,
        tests=member.tests,
        severity=member.severity,
    )


def state(
    problem: Problem,
    *,
    examples: Iterable[str] = (),
    complaint_ids: Iterable[str] = (),
    hazard_ids: Iterable[str] = (),
    emerging_terms: Iterable[str] = (),
) -> ProblemState:
    """What the problem events say of an open problem."""
    members = _by_attribution(problem)
    attributed = {s.key() for s in problem.scopes()}
    at_scope = [m for m in members if m.scope.key() in attributed] or members
    return ProblemState(
        problem_id=problem.problem_id,
        scopes=problem.scopes(),
        degradation_ids=tuple(m.degradation_id for m in members),
        degradations=tuple(_degradation(m) for m in members),
        metrics=tuple(sorted({m.metric for m in members}, key=lambda metric: metric.value)),
        dimensions=tuple(sorted({m.dimension for m in members if m.dimension is not None})),
        severity=problem.severity,
        opened_week=problem.opened_week,
        detected_at=problem.opened_week + WEEK,
        themes=merged_themes(at_scope),
        example_comment_ids=example_ids(problem, examples),
        complaint_ids=tuple(dict.fromkeys(complaint_ids)),
        hazard_ids=tuple(dict.fromkeys(hazard_ids)),
        emerging_terms=tuple(dict.fromkeys(emerging_terms)),
    )
