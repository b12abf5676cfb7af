"""Degradation detection on known weekly series: flags, sample sizes, FDR, hysteresis."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from boucle_analyzer.domain.aggregation import DimensionDelta, dimension_paths
from boucle_analyzer.domain.detection import (
    Degradation,
    DetectionConfig,
    Finding,
    ScopeSeries,
    advance,
    degradation_id,
    evaluate,
    severity,
)
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Severity

pytestmark = pytest.mark.unit
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)
CONFIG = DetectionConfig()
GOOD = {5: 16, 4: 16, 3: 6, 2: 2}  # 40 ratings, mean 4.15
BAD = {5: 6, 4: 10, 3: 12, 2: 8, 1: 4}  # 40 ratings, mean 3.15
SLIGHTLY_LOWER = {5: 15, 4: 16, 3: 7, 2: 2}  # mean 4.10


def _ratings(histogram: dict[int, int], dimension: str = "overall") -> Counter[str]:
    values = [rating for rating, n in histogram.items() for _ in range(n)]
    milli = [v * 1000 for v in values]
    delta = DimensionDelta(
        count=len(values),
        total_milli=sum(milli),
        squares_micro=sum(m * m for m in milli),
        satisfied=sum(v >= 4 for v in values),
    )
    return Counter(dimension_paths(f"dims.{dimension}.", delta))


def _site(name: str, weeks: list[Counter[str]]) -> ScopeSeries:
    scope = Scope(level=ScopeLevel.SITE, network_id="net", site_id=name)
    return ScopeSeries(scope, {START + i * WEEK: counts for i, counts in enumerate(weeks)})


def _network(*sites: ScopeSeries) -> list[ScopeSeries]:
    totals: dict[datetime, Counter[str]] = {}
    for site in sites:
        for week, counts in site.weeks.items():
            totals.setdefault(week, Counter()).update(counts)
    return [ScopeSeries(Scope(level=ScopeLevel.NETWORK, network_id="net"), totals), *sites]


def _week(index: int) -> datetime:
    return START + index * WEEK


def _flags(findings: list[Finding]) -> list[tuple[str | None, Metric, str | None]]:
    return [(f.scope.site_id, f.metric, f.dimension) for f in findings if f.flagged]


def _steady(name: str, weeks: int = 20) -> ScopeSeries:
    return _site(name, [_ratings(GOOD) for _ in range(weeks)])


def test_a_one_point_drop_on_forty_ratings_is_flagged_the_week_it_happens() -> None:
    history = _network(
        _site("lyon", [_ratings(GOOD) for _ in range(16)] + [_ratings(BAD)]),
        *(_steady(f"s{i}", 17) for i in range(5)),
    )

    findings = evaluate(history, _week(16), CONFIG)

    assert _flags(findings) == [("lyon", Metric.MEAN_SATISFACTION, "overall")]
    lyon = next(f for f in findings if f.flagged)
    assert lyon.own.test.name == "welch_t"
    assert lyon.own.adjusted_p_value >= lyon.own.test.p_value
    assert lyon.current.sample_size == 40
    assert lyon.current.value == pytest.approx(3.15)
    assert lyon.baseline.value == pytest.approx(4.15)
    assert lyon.baseline.sample_size == 12 * 40
    assert lyon.current.period.start == _week(16)
    assert lyon.effect == pytest.approx(1.0)
    assert lyon.share is not None
    assert lyon.share.name == "two_proportion_z"
    assert lyon.peers is not None
    assert lyon.peers.test.p_value < 0.001


def test_a_slight_dip_is_not_flagged() -> None:
    history = _network(
        _site("lyon", [_ratings(GOOD) for _ in range(16)] + [_ratings(SLIGHTLY_LOWER)] * 4)
    )

    assert _flags(evaluate(history, _week(19), CONFIG)) == []


def test_too_few_ratings_for_a_window_test_still_build_up_sequential_evidence() -> None:
    # 5 ratings a week: even the 4-week window (20) stays under the window tests' minimum of
    # 30, so no window test runs; the CUSUM adds the weeks up and sees the collapse.
    small_good, small_bad = {5: 2, 4: 2, 3: 1}, {2: 3, 1: 2}
    history = _network(
        _site("tiny", [_ratings(small_good) for _ in range(16)] + [_ratings(small_bad)] * 4),
        *(_steady(f"s{i}", 20) for i in range(3)),
    )

    findings = evaluate(history, _week(19), CONFIG)

    assert _flags(findings) == [("tiny", Metric.MEAN_SATISFACTION, "overall")]
    assert all(f.own.test.name == "none" for f in findings if f.scope.site_id == "tiny")
    tiny = next(f for f in findings if f.flagged)
    assert tiny.sequential is not None
    assert tiny.sequential.name == "cusum"
    assert tiny.sequential.statistic >= CONFIG.cusum_h[Metric.MEAN_SATISFACTION]
    assert tiny.current.value == pytest.approx(1.6)


def test_the_same_drop_among_many_sites_survives_the_false_discovery_control() -> None:
    sites = [_steady(f"s{i:03d}", 17) for i in range(200)]
    lyon = _site("lyon", [_ratings(GOOD) for _ in range(16)] + [_ratings(BAD)])

    findings = evaluate(_network(lyon, *sites), _week(16), CONFIG)

    assert _flags(findings) == [("lyon", Metric.MEAN_SATISFACTION, "overall")]
    tested = [f for f in findings if f.own.test.name != "none"]
    assert len(tested) == 202


def test_a_complaint_spike_is_flagged_with_the_poisson_rate_test() -> None:
    normal = Counter({"enrolments": 100, "complaints": 1})
    spike = Counter({"enrolments": 100, "complaints": 12})
    history = _network(_site("lyon", [normal] * 16 + [spike]))

    findings = evaluate(history, _week(16), CONFIG)

    assert ("lyon", Metric.COMPLAINT_RATE, None) in _flags(findings)
    complaint = next(f for f in findings if f.flagged and f.metric is Metric.COMPLAINT_RATE)
    assert complaint.own.test.name == "poisson_rate_ratio"
    assert complaint.current.value == pytest.approx(12.0)  # per 100 learners
    assert complaint.baseline.value == pytest.approx(1.0)


def test_severity_grows_with_the_effect() -> None:
    assert severity(Metric.MEAN_SATISFACTION, 0.3, CONFIG) is Severity.LOW
    assert severity(Metric.MEAN_SATISFACTION, 0.5, CONFIG) is Severity.MEDIUM
    assert severity(Metric.MEAN_SATISFACTION, 0.6, CONFIG) is Severity.HIGH
    assert severity(Metric.MEAN_SATISFACTION, 1.0, CONFIG) is Severity.CRITICAL


def _run(weeks: list[Counter[str]], until: int) -> tuple[list[Degradation], list[Degradation]]:
    """Evaluate week after week from week 16; every degradation opened and resolved.

    Ten steady peers keep the network as a whole calm: only the site degrades.
    """
    history = _network(_site("lyon", weeks), *(_steady(f"s{i}", len(weeks)) for i in range(10)))
    open_degradations: dict[str, Degradation] = {}
    opened, resolved = [], []
    for index in range(16, until):
        transitions = advance(
            open_degradations, evaluate(history, _week(index), CONFIG), _week(index), CONFIG
        )
        opened += [degradation for degradation, _ in transitions.opened]
        resolved += transitions.resolved
        open_degradations = transitions.still_open(open_degradations)
    return opened, resolved


def test_one_degradation_per_drop_then_one_resolution_after_two_calm_weeks() -> None:
    weeks = [_ratings(GOOD)] * 16 + [_ratings(BAD)] * 5 + [_ratings(GOOD)] * 6

    opened, resolved = _run(weeks, 27)

    assert len(opened) == 1
    degradation = opened[0]
    assert degradation.opened_week == _week(16)
    assert degradation.degradation_id == degradation_id(degradation.key, _week(16))
    assert [e.degradation_id for e in resolved] == [degradation.degradation_id]
    assert resolved[0].resolved_week == _week(22)  # weeks 21 and 22 back to normal
    assert resolved[0].current.value == pytest.approx(4.15)


def test_a_half_recovery_does_not_close_the_degradation() -> None:
    half = {5: 10, 4: 14, 3: 10, 2: 4, 1: 2}  # mean 3.6: better, not back within 0.1
    weeks = [_ratings(GOOD)] * 16 + [_ratings(BAD)] * 3 + [_ratings(half)] * 6

    opened, resolved = _run(weeks, 25)

    assert len(opened) == 1
    assert resolved == []


def test_degradation_ids_are_deterministic() -> None:
    key = "net/level:site/site:lyon|mean_satisfaction|overall"

    assert degradation_id(key, _week(16)) == degradation_id(key, _week(16))
    assert degradation_id(key, _week(16)) != degradation_id(key, _week(17))
