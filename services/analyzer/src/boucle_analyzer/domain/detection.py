"""Degradation detection over weekly aggregates: tests, false-discovery control, episodes. Pure.

Once a week is complete, every scope of a network is compared, per metric and dimension,
with its own baseline (the ``baseline_weeks`` weeks before the current window) over
current windows of 1, 2 and 4 weeks (short windows react fast, long ones see smaller
drops; the window p-values are Bonferroni-combined). Tests: Welch's t on mean ratings
(the decision; the two-proportion z-test, or Fisher's exact test for small counts, on the
share of 4-5 ratings is computed on the same windows and reported as evidence, not tested
a second time), the exact conditional binomial test of two Poisson rates on complaints and
dropouts per enrolment. Every own-baseline test of the run (all scopes × metrics ×
dimensions) forms one Benjamini–Hochberg family; the comparison with the scope's network
peers (the network minus the scope, same window) is a second family, reported as evidence.

An episode opens when the adjusted p-value is below ``alpha`` and the effect reaches the
metric's opening threshold; it closes after ``close_after_weeks`` consecutive weeks back
within the (smaller) closing margin of the baseline frozen at opening (hysteresis).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from boucle_analyzer.domain.aggregation import OVERALL
from boucle_analyzer.domain.figures import Counts, dimensions_of
from boucle_analyzer.domain.ratings import MILLI
from boucle_analyzer.domain.statistics import (
    Sample,
    TestResult,
    benjamini_hochberg,
    poisson_rate_test,
    proportion_lower,
    welch_t_lower,
)
from boucle_contracts.common import Period
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation, Severity

WEEK = timedelta(days=7)
DEGRADATION_NAMESPACE = uuid.UUID("5d0c6f7e-2b8a-5a44-9d1e-7f3a2c9b8e61")
SATISFACTION = (Metric.MEAN_SATISFACTION, Metric.SATISFACTION_RATE)


@dataclass(frozen=True, slots=True)
class Thresholds:
    open_effect: float  # in the metric's unit; positive means worse
    close_margin: float


@dataclass(frozen=True)
class DetectionConfig:
    alpha: float = 0.05
    windows: tuple[int, ...] = (1, 2, 4)  # weeks
    baseline_weeks: int = 12
    min_current_ratings: int = 30
    min_baseline_ratings: int = 60
    min_current_enrolments: int = 30
    min_baseline_enrolments: int = 60
    min_current_events: int = 3  # complaints or dropouts, to call a rise
    close_after_weeks: int = 2
    thresholds: Mapping[Metric, Thresholds] = field(
        default_factory=lambda: {
            Metric.MEAN_SATISFACTION: Thresholds(open_effect=0.3, close_margin=0.1),
            Metric.SATISFACTION_RATE: Thresholds(open_effect=0.10, close_margin=0.03),
            Metric.COMPLAINT_RATE: Thresholds(open_effect=2.0, close_margin=0.5),
            Metric.DROPOUT_RATE: Thresholds(open_effect=0.05, close_margin=0.02),
        }
    )


@dataclass(frozen=True, slots=True)
class ScopeSeries:
    """A scope's weekly counters, by the Monday (UTC) that starts each week."""

    scope: Scope
    weeks: Mapping[datetime, Counts]


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One test's outcome with its adjusted p-value."""

    test: TestResult
    adjusted_p_value: float


@dataclass(frozen=True, slots=True)
class Finding:
    scope: Scope
    metric: Metric
    dimension: str | None
    baseline: Observation
    current: Observation
    effect: float  # how much worse, in the metric's unit
    own: Evaluated
    peers: Evaluated | None
    flagged: bool
    latest: Observation | None  # shortest window with enough data: for closing
    share: TestResult | None = None  # satisfaction share (4-5), same windows: evidence

    @property
    def key(self) -> str:
        return episode_key(self.scope, self.metric, self.dimension)


def episode_key(scope: Scope, metric: Metric, dimension: str | None) -> str:
    return f"{scope.key()}|{metric.value}|{dimension or '-'}"


def window_counts(weeks: Mapping[datetime, Counts], start: datetime, end: datetime) -> Counter[str]:
    total: Counter[str] = Counter()
    for week, counts in weeks.items():
        if start <= week < end:
            total.update(counts)
    return total


def _minus(whole: Counts, part: Counts) -> Counter[str]:
    result = Counter(whole)
    result.subtract(part)
    return +result


@dataclass(frozen=True, slots=True)
class _Measure:
    """A metric's value in a window, with what a test needs."""

    value: float
    size: int
    sample: Sample | None = None  # ratings
    events: int = 0  # satisfied ratings, complaints or dropouts
    exposure: int = 0


def _measure(metric: Metric, dimension: str | None, counts: Counts) -> _Measure | None:
    if metric in SATISFACTION:
        dim = dimensions_of(counts).get(dimension or OVERALL)
        if dim is None or dim.count == 0:
            return None
        sample = Sample(dim.count, dim.total_milli / MILLI, dim.squares_micro / MILLI**2)
        if metric is Metric.MEAN_SATISFACTION:
            return _Measure(sample.mean, dim.count, sample=sample, events=dim.satisfied)
        return _Measure(dim.satisfied / dim.count, dim.count, events=dim.satisfied)
    enrolments = counts.get("enrolments", 0)
    if enrolments <= 0:
        return None
    events = counts.get("complaints" if metric is Metric.COMPLAINT_RATE else "dropouts", 0)
    scale = 100.0 if metric is Metric.COMPLAINT_RATE else 1.0
    return _Measure(scale * events / enrolments, enrolments, events=events, exposure=enrolments)


def _effect(metric: Metric, baseline: float, current: float) -> float:
    return baseline - current if metric in SATISFACTION else current - baseline


def _test(metric: Metric, current: _Measure, baseline: _Measure) -> TestResult:
    if metric is Metric.MEAN_SATISFACTION:
        assert current.sample is not None
        assert baseline.sample is not None
        return welch_t_lower(current.sample, baseline.sample)
    if metric is Metric.SATISFACTION_RATE:
        return proportion_lower(current.events, current.size, baseline.events, baseline.size)
    return poisson_rate_test(current.events, current.exposure, baseline.events, baseline.exposure)


def _enough(metric: Metric, config: DetectionConfig, measure: _Measure, *, current: bool) -> bool:
    if metric in SATISFACTION:
        low = config.min_current_ratings if current else config.min_baseline_ratings
        return measure.size >= low
    low = config.min_current_enrolments if current else config.min_baseline_enrolments
    return measure.size >= low and (not current or measure.events >= config.min_current_events)


def candidates(counts: Counts) -> list[tuple[Metric, str | None]]:
    """Metric and dimension pairs a scope's counters can be tested on."""
    pairs: list[tuple[Metric, str | None]] = [
        (Metric.MEAN_SATISFACTION, name) for name in sorted(dimensions_of(counts))
    ]
    if counts.get("enrolments", 0):
        pairs += [(Metric.COMPLAINT_RATE, None), (Metric.DROPOUT_RATE, None)]
    return pairs


@dataclass(frozen=True, slots=True)
class _Raw:
    scope: Scope
    metric: Metric
    dimension: str | None
    baseline: Observation
    current: Observation
    effect: float
    own: TestResult  # p-value already Bonferroni-combined over windows
    peers: TestResult | None
    latest: Observation | None
    share: TestResult | None = None


def _observation(measure: _Measure, start: datetime, end: datetime) -> Observation:
    return Observation(
        value=round(measure.value, 6), sample_size=measure.size, period=Period(start=start, end=end)
    )


def _evaluate_pair(
    *,
    series: ScopeSeries,
    network: ScopeSeries | None,
    metric: Metric,
    dimension: str | None,
    week: datetime,
    config: DetectionConfig,
) -> _Raw | None:
    end = week + WEEK
    threshold = config.thresholds[metric].open_effect
    tested: list[tuple[TestResult, float, int, _Measure, _Measure]] = []
    latest: Observation | None = None
    for weeks in sorted(config.windows):
        start = end - weeks * WEEK
        current = _measure(metric, dimension, window_counts(series.weeks, start, end))
        base_start = start - config.baseline_weeks * WEEK
        baseline = _measure(metric, dimension, window_counts(series.weeks, base_start, start))
        if current is None or not _enough(metric, config, current, current=True):
            continue
        if latest is None:
            latest = _observation(current, start, end)
        if baseline is None or not _enough(metric, config, baseline, current=False):
            continue
        effect = _effect(metric, baseline.value, current.value)
        tested.append((_test(metric, current, baseline), effect, weeks, current, baseline))
    if not tested:
        return None if latest is None else _calm_only(series.scope, metric, dimension, latest)
    strong = [t for t in tested if t[1] >= threshold] or tested
    test, effect, weeks, current, baseline = min(strong, key=lambda t: (t[0].p_value, -t[1]))
    combined = TestResult(test.name, test.statistic, min(1.0, test.p_value * len(tested)))
    start = end - weeks * WEEK
    peers: TestResult | None = None
    if network is not None and network.scope != series.scope:
        rest = _minus(
            window_counts(network.weeks, start, end), window_counts(series.weeks, start, end)
        )
        others = _measure(metric, dimension, rest)
        if others is not None and _enough(metric, config, others, current=False):
            peers = _test(metric, current, others)
    share = None
    if metric is Metric.MEAN_SATISFACTION:
        share = proportion_lower(current.events, current.size, baseline.events, baseline.size)
    return _Raw(
        scope=series.scope,
        metric=metric,
        dimension=dimension,
        baseline=_observation(baseline, start - config.baseline_weeks * WEEK, start),
        current=_observation(current, start, end),
        effect=effect,
        own=combined,
        peers=peers,
        latest=latest,
        share=share,
    )


def _calm_only(scope: Scope, metric: Metric, dimension: str | None, latest: Observation) -> _Raw:
    """No baseline to test against, but a current value to close an episode with."""
    return _Raw(
        scope, metric, dimension, latest, latest, 0.0, TestResult("none", 0.0, 1.0), None, latest
    )


def evaluate(
    history: Sequence[ScopeSeries], week: datetime, config: DetectionConfig
) -> list[Finding]:
    """Every testable scope × metric × dimension of one network for the week starting ``week``."""
    network = next((s for s in history if s.scope.level is ScopeLevel.NETWORK), None)
    start = week + WEEK - (max(config.windows) + config.baseline_weeks) * WEEK
    raws: list[_Raw] = []
    for series in history:
        recent = window_counts(series.weeks, start, week + WEEK)
        for metric, dimension in candidates(recent):
            raw = _evaluate_pair(
                series=series,
                network=network,
                metric=metric,
                dimension=dimension,
                week=week,
                config=config,
            )
            if raw is not None:
                raws.append(raw)
    tested = [r for r in raws if r.own.name != "none"]
    own_q = dict(
        zip(map(id, tested), benjamini_hochberg([r.own.p_value for r in tested]), strict=True)
    )
    with_peers = [r for r in tested if r.peers is not None]
    peer_q = dict(
        zip(
            map(id, with_peers),
            benjamini_hochberg([r.peers.p_value for r in with_peers if r.peers is not None]),
            strict=True,
        )
    )
    findings = []
    for raw in raws:
        q = own_q.get(id(raw), 1.0)
        threshold = config.thresholds[raw.metric].open_effect
        findings.append(
            Finding(
                scope=raw.scope,
                metric=raw.metric,
                dimension=raw.dimension,
                baseline=raw.baseline,
                current=raw.current,
                effect=raw.effect,
                own=Evaluated(raw.own, q),
                peers=Evaluated(raw.peers, peer_q[id(raw)]) if raw.peers is not None else None,
                flagged=raw.own.name != "none" and q < config.alpha and raw.effect >= threshold,
                latest=raw.latest,
                share=raw.share,
            )
        )
    return findings


def severity(metric: Metric, effect: float, config: DetectionConfig) -> Severity:
    ratio = effect / config.thresholds[metric].open_effect
    if ratio >= 3:
        return Severity.CRITICAL
    if ratio >= 2:
        return Severity.HIGH
    if ratio >= 1.5:
        return Severity.MEDIUM
    return Severity.LOW


def degradation_id(key: str, opened_week: datetime) -> str:
    return str(uuid.uuid5(DEGRADATION_NAMESPACE, f"{key}|{opened_week.date().isoformat()}"))


@dataclass(frozen=True, slots=True)
class Episode:
    """A degradation from the week it opened until the week it resolved."""

    degradation_id: str
    key: str
    scope: Scope
    metric: Metric
    dimension: str | None
    opened_week: datetime
    baseline: Observation
    current: Observation
    calm_weeks: int = 0
    resolved_week: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_week is None


@dataclass(frozen=True)
class Transitions:
    opened: list[tuple[Episode, Finding]] = field(default_factory=list)
    resolved: list[Episode] = field(default_factory=list)
    changed: list[Episode] = field(default_factory=list)  # every episode to persist

    def still_open(self, before: Mapping[str, Episode]) -> dict[str, Episode]:
        """The open episodes after these transitions, by key."""
        after = dict(before)
        for episode in self.changed:
            if episode.open:
                after[episode.key] = episode
            else:
                after.pop(episode.key, None)
        return after


def advance(
    open_episodes: Mapping[str, Episode],
    findings: Iterable[Finding],
    week: datetime,
    config: DetectionConfig,
) -> Transitions:
    """Open, keep or close episodes after the findings of one week (one flag per episode)."""
    transitions = Transitions()
    seen: set[str] = set()
    for finding in findings:
        seen.add(finding.key)
        episode = open_episodes.get(finding.key)
        if episode is None:
            if finding.flagged:
                opened = Episode(
                    degradation_id=degradation_id(finding.key, week),
                    key=finding.key,
                    scope=finding.scope,
                    metric=finding.metric,
                    dimension=finding.dimension,
                    opened_week=week,
                    baseline=finding.baseline,
                    current=finding.current,
                )
                transitions.opened.append((opened, finding))
                transitions.changed.append(opened)
            continue
        if finding.latest is None:
            continue  # too little data this week to say it is back to normal
        margin = config.thresholds[finding.metric].close_margin
        calm = _effect(finding.metric, episode.baseline.value, finding.latest.value) <= margin
        updated = replace(
            episode, calm_weeks=episode.calm_weeks + 1 if calm else 0, current=finding.latest
        )
        if updated.calm_weeks >= config.close_after_weeks:
            updated = replace(updated, resolved_week=week)
            transitions.resolved.append(updated)
        if updated != episode:
            transitions.changed.append(updated)
    return transitions


def finite(value: float, bound: float = 1e9) -> float:
    """JSON has no infinity: an infinite statistic (e.g. a ratio over zero) is capped."""
    if math.isnan(value):
        return 0.0
    return max(-bound, min(bound, value))
