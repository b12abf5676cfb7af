"""Problems on the small-sample networks (issue 13): duplicates, false problems, main themes.

The detection domain runs week after week as in ``bench.analyzer.sensitivity``, and each
week's transitions are grouped into problems by the domain (``domain.problems.group_week``),
as the service's problem runner does. Each degradation brings the themes of its current
window (``theme_shares``); a trainer is placed at its site. Learners' comments come from the
generator's comment layer (``sparse_network.CommentPool``), drawn from the labelled French
set and counted with the analyzer's classifier.

Scores, over every problem opened:

- a problem is **true** when one of its degradations matches an injected problem (as the
  sensitivity bench matches degradations); else it is a **false problem**;
- **problems per true problem**: problems matching an injected single-site problem, over
  those found (1.0: one problem each; the degradations per found problem for contrast);
- **false merges**: problems holding true degradations of two different injected causes
  (two unrelated drops, or a drop and a shared problem); rate over the true problems;
- **shared problems** (one cause at 3-5 sites, ``sparse_network``): among those found at two
  sites or more, **found as one problem** when one problem holds more than half of the
  sites found (and at least two), and the problems holding any of their sites;
- **main theme**: the first of the problem's merged themes (``merged_themes`` of its
  degradations at the attributed scopes, as ``problem_opened`` says it) is the injected
  cause's: as ``problem_opened`` says it, and over all the degradations it ever held;
- **examples**: the negative comments the attributed scopes counted in the problem's weeks
  (what the runner picks its 3-5 example comments from): at least 3.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from bench.analyzer.sparse_network import Injected, SparseNetwork, matches
from boucle_analyzer.adapters.spacy_french import SpacyFrenchAnalyser
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.domain import detection
from boucle_analyzer.domain import problems as domain_problems
from boucle_analyzer.domain.detection import WEEK, Degradation, DetectionConfig, window_counts
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.problems import Member, Problem, merged_themes
from boucle_analyzer.domain.theme_shares import theme_shares
from boucle_analyzer.domain.themes import Classifier
from boucle_contracts.scope import Scope, ScopeLevel

DATA = Path(__file__).with_name("comments_fr.jsonl")
MIN_EXAMPLES = 3


class ClassifiedPool:
    """The labelled negative comments, each with the classifier's verdict, by gold theme."""

    def __init__(self, classifier: str = "plain", path: Path = DATA) -> None:
        raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        negatives = [r for r in raw if r["negative"] and r["themes"]]
        if classifier == "spacy":
            analyser: Any = SpacyFrenchAnalyser()
        else:
            analyser = PlainAnalyser()
        found = Classifier(analyser, load_catalog(None, None)).classify_many(
            "bench", [r["text"] for r in negatives]
        )
        verdicts = [(f.negative, tuple(f.themes)) for f in found]
        self.every = verdicts
        self.by_theme: dict[str, list[tuple[bool, tuple[str, ...]]]] = {}
        for record, verdict in zip(negatives, verdicts, strict=True):
            if len(record["themes"]) == 1:  # the cause alone: a comment about it
                self.by_theme.setdefault(record["themes"][0], []).append(verdict)

    def draw(self, rng: np.random.Generator, theme: str | None) -> tuple[bool, tuple[str, ...]]:
        chosen = self.every if theme is None else self.by_theme[theme]
        return chosen[int(rng.integers(len(chosen)))]


@dataclass
class Tracked:
    """A problem through its weeks: every degradation it ever held, its first state."""

    problem: Problem
    members: dict[str, Member] = field(default_factory=dict)
    first_theme: str | None = None
    examples: int = 0


def _member(
    degradation: Degradation, network: SparseNetwork, series: Any, config: DetectionConfig
) -> Member:
    scope = degradation.scope
    site_of = {t: s for s, pair in network.trainers.items() for t in pair}
    if scope.level is ScopeLevel.TRAINER and scope.trainer_id is not None:
        sites: tuple[str, ...] = (site_of[scope.trainer_id],)
    elif scope.site_id is not None:
        sites = (scope.site_id,)
    else:
        sites = ()
    period = degradation.current.period
    counts = window_counts(series.weeks, period.start, period.end)
    return Member(
        degradation_id=degradation.degradation_id,
        scope=scope,
        metric=degradation.metric,
        dimension=degradation.dimension,
        opened_week=degradation.opened_week,
        baseline=degradation.baseline,
        current=degradation.current,
        severity=detection.severity(
            degradation.metric,
            abs(degradation.baseline.value - degradation.current.value),
            config,
        ),
        sites=sites,
        themes=theme_shares(counts),
    )


def _attributed_negatives(problem: Problem, series: dict[str, Any], end: datetime) -> int:
    """Negative comments counted in the attributed scopes over the problem's weeks."""
    start = min(m.current.period.start for m in problem.members)
    total = 0
    for scope in problem.scopes():
        key = scope.model_copy(update={"site_id": None}).key() if _trainer(scope) else scope.key()
        found = series.get(key)
        if found is not None:
            total += window_counts(found.weeks, start, end).get("negative_comments", 0)
    return total


def _trainer(scope: Scope) -> bool:
    return scope.level is ScopeLevel.TRAINER


def _at_scope(problem: Problem) -> list[Member]:
    attributed = {s.key() for s in problem.scopes()}
    chosen = []
    for m in problem.members:
        key = m.scope.key()
        if _trainer(m.scope) and m.sites:
            key = m.scope.model_copy(update={"site_id": m.sites[0]}).key()
        if key in attributed:
            chosen.append(m)
    return chosen or list(problem.members)


def main_theme(problem: Problem) -> str | None:
    themes = merged_themes(_at_scope(problem))
    return themes[0].theme if themes else None


@dataclass(frozen=True)
class WeekDetections:
    """One week of the detection domain, as the problem runner receives it."""

    week: datetime
    opened: list[Member]
    resolved: set[str]


def detect_weeks(
    network: SparseNetwork, config: DetectionConfig
) -> tuple[list[Degradation], list[WeekDetections], int]:
    """Degradations opened, each week's transitions, and the site-weeks evaluated."""
    first = max(config.windows) + config.baseline_weeks
    by_key = {s.scope.key(): s for s in network.series}
    open_degradations: dict[str, Degradation] = {}
    opened: list[Degradation] = []
    weeks: list[WeekDetections] = []
    for week in network.week_starts[first:]:
        findings = detection.evaluate(network.series, week, config)
        transitions = detection.advance(open_degradations, findings, week, config)
        new = [d for d, _ in transitions.opened]
        opened += new
        members = [_member(d, network, by_key[d.scope.key()], config) for d in new]
        weeks.append(
            WeekDetections(week, members, {d.degradation_id for d in transitions.resolved})
        )
        open_degradations = transitions.still_open(open_degradations)
    return opened, weeks, len(weeks) * len(network.sites)


def group_problems(
    network: SparseNetwork, weeks: Sequence[WeekDetections], grouping: ModuleType = domain_problems
) -> list[Tracked]:
    """The problems ``grouping`` (the domain's ``problems`` module, or another version of it)
    makes of the weeks' degradations, as the problem runner does."""
    by_key = {s.scope.key(): s for s in network.series}
    tracked: dict[str, Tracked] = {}
    for detected in weeks:
        current = [t.problem for t in tracked.values() if t.problem.open]
        changes = grouping.group_week(
            current,
            network_id=network.series[0].scope.network_id,
            week=detected.week,
            opened=detected.opened,
            resolved=detected.resolved,
        )
        for change in changes:
            entry = tracked.setdefault(change.problem.problem_id, Tracked(change.problem))
            entry.problem = change.problem
            entry.members.update({m.degradation_id: m for m in change.problem.members})
            if change.kind == "opened":
                entry.first_theme = main_theme(change.problem)
            if change.problem.members:
                entry.examples = max(
                    entry.examples,
                    _attributed_negatives(change.problem, by_key, detected.week + WEEK),
                )
    return list(tracked.values())


def detect_problems(
    network: SparseNetwork, config: DetectionConfig
) -> tuple[list[Degradation], list[Tracked], int]:
    """Degradations and problems, week after week, and the site-weeks evaluated."""
    opened, weeks, site_weeks = detect_weeks(network, config)
    return opened, group_problems(network, weeks), site_weeks


def _true(injected: Injected, member: Member, network: SparseNetwork) -> bool:
    opens_at = member.opened_week + WEEK
    in_time = injected.onset <= opens_at <= injected.end + timedelta(weeks=2)
    return in_time and matches(injected, member, network)


def score_problems(
    runs: Sequence[tuple[SparseNetwork, list[Degradation], list[Tracked], int]],
) -> dict[str, Any]:
    found, matching, false_problems, site_weeks = 0, 0, 0, 0
    degradations_of_found, false_merges = 0, 0
    first_right, last_right, with_examples, true_problems = 0, 0, 0, 0
    by_cause: dict[str, list[int]] = {}
    shared = _SharedTally()
    for network, _, problems, weeks in runs:
        site_weeks += weeks
        causes: dict[str, Injected] = {}
        keys: dict[str, set[str]] = {}  # problem -> the injected causes it holds
        hits_of: dict[int, list[Tracked]] = {}
        for index, injected in enumerate(network.injected):
            hits = [
                p for p in problems if any(_true(injected, m, network) for m in p.members.values())
            ]
            hits_of[index] = hits
            for p in hits:
                causes.setdefault(p.problem.problem_id, injected)
                keys.setdefault(p.problem.problem_id, set()).add(injected.key)
            if hits and not injected.group:
                found += 1
                matching += len(hits)
                degradations_of_found += sum(len(p.members) for p in hits)
        shared.add(network, hits_of)
        false_merges += sum(len(held) > 1 for held in keys.values())
        for entry in problems:
            cause = causes.get(entry.problem.problem_id)
            if cause is None:
                false_problems += 1
                continue
            injected = cause
            true_problems += 1
            held = replace(entry.problem, members=tuple(entry.members.values()))
            first_right += entry.first_theme == injected.cause
            last_right += main_theme(held) == injected.cause
            with_examples += entry.examples >= MIN_EXAMPLES
            tally = by_cause.setdefault(injected.cause, [0, 0])
            tally[0] += entry.first_theme == injected.cause
            tally[1] += 1
    return {
        "injected_found_by_a_problem": found,
        "problems_per_true_problem": round(matching / max(1, found), 2),
        "degradations_per_true_problem": round(degradations_of_found / max(1, found), 2),
        "false_problems": false_problems,
        "false_problems_per_1000_site_weeks": round(1000 * false_problems / max(1, site_weeks), 2),
        "true_problems": true_problems,
        "false_merges": false_merges,
        "false_merge_rate": round(false_merges / max(1, true_problems), 3),
        "main_theme_right_at_opening": round(first_right / max(1, true_problems), 3),
        "main_theme_right_all_weeks": round(last_right / max(1, true_problems), 3),
        "with_3_example_comments": round(with_examples / max(1, true_problems), 3),
        "main_theme_right_by_cause": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_cause.items())},
        "shared": shared.result(),
    }


@dataclass
class _SharedTally:
    """Shared problems (one cause at several sites): found once when one problem holds most
    of the sites where a degradation found the drop."""

    injected: int = 0
    sites: int = 0
    sites_found: int = 0
    at_two_sites: int = 0  # found at two sites or more: a multi-site problem was possible
    as_one: int = 0
    problems: int = 0

    def add(self, network: SparseNetwork, hits_of: dict[int, list[Tracked]]) -> None:
        groups: dict[str, list[int]] = {}
        for index, injected in enumerate(network.injected):
            if injected.group:
                groups.setdefault(injected.group, []).append(index)
        for indexes in groups.values():
            self.injected += 1
            self.sites += len(indexes)
            covered: dict[str, int] = {}  # problem -> sites of the group it holds
            found = [i for i in indexes if hits_of[i]]
            for i in found:
                for problem_id in {p.problem.problem_id for p in hits_of[i]}:
                    covered[problem_id] = covered.get(problem_id, 0) + 1
            self.sites_found += len(found)
            if len(found) >= 2:
                self.at_two_sites += 1
                self.problems += len(covered)
                best = max(covered.values())
                self.as_one += best >= 2 and 2 * best > len(found)

    def result(self) -> dict[str, Any]:
        return {
            "injected": self.injected,
            "sites_hit": self.sites,
            "sites_found": self.sites_found,
            "found_at_2_sites_or_more": self.at_two_sites,
            "found_as_one_problem": self.as_one,
            "problems_per_shared_problem": round(self.problems / max(1, self.at_two_sites), 2),
        }
