"""Degradation detection over weekly aggregates: tests, false-discovery control, hysteresis. Pure.

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

A degradation opens when the adjusted p-value is below ``alpha`` and the effect reaches the
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

from boucle_analyzer.domain.aggregation import OVERALL, DimensionDelta
from boucle_analyzer.domain.figures import Counts, dimensions_of
from boucle_analyzer.domain.ratings import MILLI
from boucle_analyzer.domain.sequential import (
    baseline_rate,
    count_cusum,
    rating_cusum,
    ville_bound,
)
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
HAZARDS = "hazards"


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
    # The sequential decision (domain.sequential): weeks a CUSUM runs over, the drop and the
    # surge it is tuned to, and its thresholds, calibrated by simulation on networks with no
    # problem (``python -m bench.analyzer.detection --calibrate``; docs/benchmarks.md).
    lookback_weeks: int = 4
    sequential_baseline_weeks: int = 26  # longer than the windows': its error adds up weekly
    rating_shift: float = 0.5  # points
    # The guard against weeks pulled down by a few outliers (domain.sequential.rating_cusum):
    # the week's own variance shrunk to the baseline's, with this weight in ratings. It
    # replaced the bound on z (``rating_clip`` 1.0), which capped what a real drop added.
    rating_prior_weight: float | None = 8.0
    rating_clip: float | None = None
    surge_ratio: float = 3.0
    min_sequential_baseline: int = 30  # ratings in the baseline of a rating CUSUM
    cusum_h: Mapping[Metric, float] = field(
        default_factory=lambda: {
            Metric.MEAN_SATISFACTION: 8.5,
            Metric.COMPLAINT_RATE: 6.5,
            Metric.DROPOUT_RATE: 6.5,
        }
    )
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
    sequential: TestResult | None = None  # the CUSUM: the decision

    @property
    def key(self) -> str:
        return degradation_key(self.scope, self.metric, self.dimension)


def degradation_key(scope: Scope, metric: Metric, dimension: str | None) -> str:
    return f"{scope.key()}|{metric.value}|{dimension or '-'}"


# Window sums and dimension figures already computed during one ``evaluate`` call: every
# metric of a scope reads the same windows, and every scope the network's (a 40-site network
# evaluated ten times faster). Keyed by object identity, so only while the objects live.
_WINDOWS: dict[tuple[int, datetime, datetime], Counter[str]] | None = None
# The counters are kept with their figures: a freed object's id could name another one.
_DIMENSIONS: dict[int, tuple[Counts, Mapping[str, DimensionDelta]]] | None = None


def window_counts(weeks: Mapping[datetime, Counts], start: datetime, end: datetime) -> Counter[str]:
    """The counters of the weeks in [start, end), summed (read-only while evaluating)."""
    key = (id(weeks), start, end)
    if _WINDOWS is not None and key in _WINDOWS:
        return _WINDOWS[key]
    total: Counter[str] = Counter()
    for week, counts in weeks.items():
        if start <= week < end:
            total.update(counts)
    if _WINDOWS is not None:
        _WINDOWS[key] = total
    return total


def _dimensions(counts: Counts) -> Mapping[str, DimensionDelta]:
    if _DIMENSIONS is None:
        return dimensions_of(counts)
    found = _DIMENSIONS.get(id(counts))
    if found is None:
        found = _DIMENSIONS[id(counts)] = (counts, dimensions_of(counts))
    return found[1]


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
        dim = _dimensions(counts).get(dimension or OVERALL)
        if dim is None or dim.count == 0:
            return None
        sample = Sample(dim.count, dim.total_milli / MILLI, dim.squares_micro / MILLI**2)
        if metric is Metric.MEAN_SATISFACTION:
            return _Measure(sample.mean, dim.count, sample=sample, events=dim.satisfied)
        return _Measure(dim.satisfied / dim.count, dim.count, events=dim.satisfied)
    enrolments = counts.get("enrolments", 0)
    if enrolments <= 0:
        return None
    events = counts.get(_counter(metric, dimension), 0)
    scale = 100.0 if metric is Metric.COMPLAINT_RATE else 1.0
    return _Measure(scale * events / enrolments, enrolments, events=events, exposure=enrolments)


def _counter(metric: Metric, dimension: str | None) -> str:
    """The counter a rate metric counts: complaints, hazards (complaint rate, "hazards"
    dimension: the contract has no hazard metric) or dropouts."""
    if metric is Metric.DROPOUT_RATE:
        return "dropouts"
    return HAZARDS if dimension == HAZARDS else "complaints"


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
    """Metric and dimension pairs a scope's counters can be tested on: the complaint, hazard
    and dropout surges as soon as there are any (enrolments or not)."""
    pairs: list[tuple[Metric, str | None]] = [
        (Metric.MEAN_SATISFACTION, name) for name in sorted(dimensions_of(counts))
    ]
    enrolled = counts.get("enrolments", 0) > 0
    if enrolled or counts.get("complaints", 0):
        pairs.append((Metric.COMPLAINT_RATE, None))
    if counts.get(HAZARDS, 0):
        pairs.append((Metric.COMPLAINT_RATE, HAZARDS))
    if enrolled or counts.get("dropouts", 0):
        pairs.append((Metric.DROPOUT_RATE, None))
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
    sequential: _Sequential | None = None


@dataclass(frozen=True, slots=True)
class _Sequential:
    """A CUSUM's verdict and the weeks its evidence was gathered on."""

    test: TestResult
    flagged: bool
    effect: float
    current: Observation
    baseline: Observation


def _sequential(
    series: ScopeSeries,
    metric: Metric,
    dimension: str | None,
    week: datetime,
    config: DetectionConfig,
) -> _Sequential | None:
    """The CUSUM over the ``lookback_weeks`` up to ``week``, against the baseline before them."""
    if metric is Metric.SATISFACTION_RATE:
        return None
    end = week + WEEK
    start = end - config.lookback_weeks * WEEK
    base_start = start - config.sequential_baseline_weeks * WEEK
    weeks = [start + i * WEEK for i in range(config.lookback_weeks)]
    h = config.cusum_h[metric]
    if metric is Metric.MEAN_SATISFACTION:
        baseline = _measure(metric, dimension, window_counts(series.weeks, base_start, start))
        if baseline is None or baseline.size < config.min_sequential_baseline:
            return None
        assert baseline.sample is not None
        samples = [_sample(series.weeks.get(w), dimension) for w in weeks]
        cusum = rating_cusum(
            samples,
            baseline.sample,
            config.rating_shift,
            clip=config.rating_clip,
            prior_weight=config.rating_prior_weight,
        )
        name = "cusum"
    else:
        counter = _counter(metric, dimension)
        present = sum(base_start <= w < start for w in series.weeks)
        if present < config.baseline_weeks // 2:
            return None  # a scope too new to know its usual rate
        base_events = window_counts(series.weeks, base_start, start).get(counter, 0)
        # per week of the baseline the scope has data in: a young scope is not diluted
        rate = baseline_rate(base_events, present)
        counts = [series.weeks.get(w, {}).get(counter, 0) for w in weeks]
        cusum = count_cusum(counts, rate, config.surge_ratio)
        name = "poisson_cusum"
    run_start = weeks[cusum.start] if cusum.start < len(weeks) else weeks[-1]
    current = _value(metric, dimension, window_counts(series.weeks, run_start, end), run_start, end)
    base = _value(
        metric, dimension, window_counts(series.weeks, base_start, start), base_start, start
    )
    if current is None or base is None:
        return None
    effect = _effect(metric, base[0].value, current[0].value) if current[1] else 0.0
    if metric is not Metric.MEAN_SATISFACTION:
        run_events = sum(counts[cusum.start :])
        big_enough = run_events >= config.min_current_events
    else:
        big_enough = effect >= config.thresholds[metric].open_effect
    return _Sequential(
        test=TestResult(name, cusum.statistic, ville_bound(cusum.statistic)),
        flagged=cusum.statistic >= h and big_enough,
        effect=effect,
        current=current[0],
        baseline=base[0],
    )


def _sample(counts: Counts | None, dimension: str | None) -> Sample | None:
    if counts is None:
        return None
    dim = _dimensions(counts).get(dimension or OVERALL)
    if dim is None or dim.count == 0:
        return None
    return Sample(dim.count, dim.total_milli / MILLI, dim.squares_micro / MILLI**2)


def _value(
    metric: Metric, dimension: str | None, counts: Counts, start: datetime, end: datetime
) -> tuple[Observation, bool] | None:
    """A window's observation, and whether it has a value to compare. A surge's value is per
    100 learners (complaints, hazards) or per learner (dropouts) when enrolments are known,
    otherwise events per week."""
    measure = _measure(metric, dimension, counts)
    if measure is not None:
        return _observation(measure, start, end), True
    if metric in SATISFACTION:
        return None
    events = counts.get(_counter(metric, dimension), 0)
    weeks = max(1, round((end - start) / WEEK))
    return Observation(
        value=round(events / weeks, 6), sample_size=events, period=Period(start=start, end=end)
    ), True


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
    longest: Observation | None = None  # to close with when no window has enough data
    sequential = _sequential(series, metric, dimension, week, config)
    for weeks in sorted(config.windows):
        start = end - weeks * WEEK
        current = _measure(metric, dimension, window_counts(series.weeks, start, end))
        base_start = start - config.baseline_weeks * WEEK
        baseline = _measure(metric, dimension, window_counts(series.weeks, base_start, start))
        if current is not None and current.size > 0:
            longest = _observation(current, start, end)
        if current is None or not _enough(metric, config, current, current=True):
            continue
        if latest is None:
            latest = _observation(current, start, end)
        if baseline is None or not _enough(metric, config, baseline, current=False):
            continue
        effect = _effect(metric, baseline.value, current.value)
        tested.append((_test(metric, current, baseline), effect, weeks, current, baseline))
    latest = latest or longest
    if not tested:
        if sequential is not None and sequential.flagged:
            return _sequential_only(series.scope, metric, dimension, sequential, latest)
        if latest is None:
            return None
        return replace(_calm_only(series.scope, metric, dimension, latest), sequential=sequential)
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
    raw = _Raw(
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
        sequential=sequential,
    )
    if sequential is not None and sequential.flagged and sequential.effect > effect:
        # the values the decision was taken on, when the CUSUM's weeks say more
        raw = replace(
            raw,
            baseline=sequential.baseline,
            current=sequential.current,
            effect=sequential.effect,
        )
    return raw


def _sequential_only(
    scope: Scope,
    metric: Metric,
    dimension: str | None,
    sequential: _Sequential,
    latest: Observation | None,
) -> _Raw:
    """Too few data for a window test, enough evidence accumulated week after week."""
    return _Raw(
        scope,
        metric,
        dimension,
        sequential.baseline,
        sequential.current,
        sequential.effect,
        TestResult("none", 0.0, 1.0),
        None,
        latest or sequential.current,
        sequential=sequential,
    )


def _calm_only(scope: Scope, metric: Metric, dimension: str | None, latest: Observation) -> _Raw:
    """No baseline to test against, but a current value to close a degradation with."""
    return _Raw(
        scope, metric, dimension, latest, latest, 0.0, TestResult("none", 0.0, 1.0), None, latest
    )


def evaluate(
    history: Sequence[ScopeSeries], week: datetime, config: DetectionConfig
) -> list[Finding]:
    """Every testable scope × metric × dimension of one network for the week starting ``week``."""
    global _WINDOWS, _DIMENSIONS
    _WINDOWS, _DIMENSIONS = {}, {}
    try:
        return _evaluate(history, week, config)
    finally:
        _WINDOWS, _DIMENSIONS = None, None


def _evaluate(
    history: Sequence[ScopeSeries], week: datetime, config: DetectionConfig
) -> list[Finding]:
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
        # Two ways to open: the window test (enough data in one window: fast on large
        # scopes) or the CUSUM (evidence added up over weeks: small scopes, surges).
        windowed = raw.own.name != "none" and q < config.alpha and raw.effect >= threshold
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
                flagged=windowed or (raw.sequential is not None and raw.sequential.flagged),
                latest=raw.latest,
                share=raw.share,
                sequential=None if raw.sequential is None else raw.sequential.test,
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
class Degradation:
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
    opened: list[tuple[Degradation, Finding]] = field(default_factory=list)
    resolved: list[Degradation] = field(default_factory=list)
    changed: list[Degradation] = field(default_factory=list)  # every degradation to persist

    def still_open(self, before: Mapping[str, Degradation]) -> dict[str, Degradation]:
        """The open degradations after these transitions, by key."""
        after = dict(before)
        for degradation in self.changed:
            if degradation.open:
                after[degradation.key] = degradation
            else:
                after.pop(degradation.key, None)
        return after


def advance(
    open_degradations: Mapping[str, Degradation],
    findings: Iterable[Finding],
    week: datetime,
    config: DetectionConfig,
) -> Transitions:
    """Open, keep or close degradations after one week's findings (one flag per degradation)."""
    transitions = Transitions()
    seen: set[str] = set()
    for finding in findings:
        seen.add(finding.key)
        degradation = open_degradations.get(finding.key)
        if degradation is None:
            if finding.flagged:
                opened = Degradation(
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
        calm = _effect(finding.metric, degradation.baseline.value, finding.latest.value) <= margin
        updated = replace(
            degradation,
            calm_weeks=degradation.calm_weeks + 1 if calm else 0,
            current=finding.latest,
        )
        if updated.calm_weeks >= config.close_after_weeks:
            updated = replace(updated, resolved_week=week)
            transitions.resolved.append(updated)
        if updated != degradation:
            transitions.changed.append(updated)
    return transitions


def finite(value: float, bound: float = 1e9) -> float:
    """JSON has no infinity: an infinite statistic (e.g. a ratio over zero) is capped."""
    if math.isnan(value):
        return 0.0
    return max(-bound, min(bound, value))
