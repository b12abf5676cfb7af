"""The CUSUMs on seeded simulations: small samples add up, calm series stay calm."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from bench.analyzer.network import LEVELS, tilted

from boucle_analyzer.domain.detection import DetectionConfig, ScopeSeries, evaluate
from boucle_analyzer.domain.sequential import (
    Cusum,
    baseline_rate,
    count_cusum,
    rating_cusum,
    ville_bound,
)
from boucle_analyzer.domain.statistics import Sample
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric

pytestmark = pytest.mark.unit
CONFIG = DetectionConfig()
H = CONFIG.cusum_h[Metric.MEAN_SATISFACTION]
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)


def _week(rng: np.random.Generator, mean: float, n: int = 12) -> Sample:
    counts = rng.multinomial(n, tilted(mean))
    return Sample(n, float((counts * LEVELS).sum()), float((counts * LEVELS**2).sum()))


def _pooled(samples: list[Sample]) -> Sample:
    return Sample(
        sum(s.count for s in samples),
        sum(s.total for s in samples),
        sum(s.total_squares for s in samples),
    )


def _cusum(weeks: list[Sample], baseline: Sample, shift: float = CONFIG.rating_shift) -> Cusum:
    """The rating CUSUM as the service configures it."""
    return rating_cusum(
        weeks, baseline, shift, clip=CONFIG.rating_clip, prior_weight=CONFIG.rating_prior_weight
    )


def _weeks_to_detect(rng: np.random.Generator, drop: float, n: int, horizon: int = 8) -> int | None:
    """Weeks after a drop (from a Monday) until the 4-week CUSUM reaches h, as the service
    runs it: n ratings a week, baseline of 26 weeks at mean 4.1."""
    baseline = _pooled([_week(rng, 4.1, n) for _ in range(CONFIG.sequential_baseline_weeks)])
    weeks = [_week(rng, 4.1, n) for _ in range(CONFIG.lookback_weeks)]
    for elapsed in range(1, horizon + 1):
        weeks = [*weeks[1:], _week(rng, 4.1 - drop, n)]
        cusum = _cusum(weeks, baseline)
        if cusum.statistic >= H:
            return elapsed
    return None


@pytest.mark.parametrize(
    ("drop", "n", "weeks", "share"),
    [
        (1.0, 30, 2, 0.9),  # a site of 30 ratings a week: the second week at the latest
        (1.0, 12, 4, 0.6),  # 12 a week: evidence adds up over the 4 weeks of the CUSUM
        (0.8, 12, 4, 0.3),
    ],
)
def test_drops_are_found_within_weeks_in_seeded_simulations(
    drop: float, n: int, weeks: int, share: float
) -> None:
    rng = np.random.default_rng(2026)

    found = [_weeks_to_detect(rng, drop, n) for _ in range(40)]

    within = [w is not None and w <= weeks for w in found]
    assert sum(within) >= share * len(found), found


def test_a_half_point_drop_at_twelve_ratings_a_week_builds_evidence_week_after_week() -> None:
    # What 4 weeks of 12 ratings can show of a 0.5-point drop at <= 1 false alarm per 1,000
    # site-weeks is limited (docs/benchmarks.md): the statistic grows, it rarely reaches h.
    rng = np.random.default_rng(7)
    baseline = _pooled([_week(rng, 4.1) for _ in range(26)])
    calm = [_week(rng, 4.1) for _ in range(4)]
    dropped = [_week(rng, 3.6) for _ in range(4)]

    before = _cusum(calm, baseline, 0.5).statistic
    after = _cusum(dropped, baseline, 0.5).statistic

    assert after > before + 2


def test_no_false_alarm_on_a_seeded_calm_year_of_a_small_scope() -> None:
    rng = np.random.default_rng(11)
    history = [_week(rng, 4.1) for _ in range(26 + 52)]

    statistics = [
        _cusum(history[t - 4 : t], _pooled(history[t - 30 : t - 4]), 0.5).statistic
        for t in range(30, len(history) + 1)
    ]

    assert max(statistics) < H


def test_the_cusum_run_starts_where_the_evidence_does() -> None:
    baseline = Sample(100, 420.0, 1850.0)  # mean 4.2
    calm, low = Sample(12, 50.4, 222.0), Sample(12, 36.0, 120.0)

    cusum = rating_cusum([calm, calm, low, low], baseline, 0.5, 1.0)

    assert cusum.start == 2
    assert rating_cusum([calm] * 4, baseline, 0.5, 1.0).start == 4  # nothing accumulated


def _ratings(counts: dict[int, int]) -> Sample:
    values = [rating for rating, n in counts.items() for _ in range(n)]
    return Sample(len(values), float(sum(values)), float(sum(v * v for v in values)))


def test_a_week_pulled_down_by_a_few_outliers_weighs_less_than_a_whole_shift() -> None:
    # Same mean 3.5 over 6 ratings: two 1s among 4s and 5s (large own variance), or every
    # learner a notch lower (the variance as usual). Self-normalised, the outliers' week
    # adds less; with the baseline's variance alone both would add the same.
    baseline = _ratings({5: 40, 4: 45, 3: 10, 2: 3, 1: 2})
    outliers = _ratings({5: 3, 4: 1, 1: 2})
    shifted = _ratings({4: 3, 3: 3})
    assert outliers.mean == pytest.approx(shifted.mean)

    def added(week: Sample, weight: float | None) -> float:
        return rating_cusum([week], baseline, 0.5, prior_weight=weight).statistic

    assert added(outliers, None) == pytest.approx(added(shifted, None))
    assert added(outliers, 8.0) < 0.7 * added(shifted, 8.0)
    assert added(shifted, 8.0) > added(shifted, None)  # a tight week says more


def test_the_self_normalised_week_is_not_capped_like_the_bound_on_z() -> None:
    baseline = _ratings({5: 40, 4: 45, 3: 10, 2: 3, 1: 2})
    collapsed = _ratings({3: 6, 2: 6})  # a whole site a point and a half lower

    bounded = rating_cusum([collapsed], baseline, 0.5, clip=1.0).statistic
    normalised = rating_cusum([collapsed], baseline, 0.5, prior_weight=8.0).statistic

    assert normalised > 2 * bounded


def test_a_complaint_wave_at_a_site_that_rarely_complains_reaches_the_threshold() -> None:
    rate = baseline_rate(events=3, weeks=26)  # three complaints in half a year
    h = CONFIG.cusum_h[Metric.COMPLAINT_RATE]

    assert count_cusum([0, 0, 0, 1], rate, CONFIG.surge_ratio).statistic < h
    assert count_cusum([0, 0, 3, 4], rate, CONFIG.surge_ratio).statistic >= h


def test_ville_bound_is_a_probability() -> None:
    assert ville_bound(0.0) == 1.0
    assert ville_bound(9.0) == pytest.approx(math.exp(-9.0))


def _series(name: str, weeks: list[dict[str, int]]) -> ScopeSeries:
    scope = Scope(level=ScopeLevel.SITE, network_id="net", site_id=name)
    return ScopeSeries(scope, {START + i * WEEK: Counter(c) for i, c in enumerate(weeks)})


def test_complaint_and_hazard_surges_open_without_any_enrolment_figure() -> None:
    calm = [{"responses": 10, "complaints": int(i % 8 == 0)} for i in range(30)]
    wave = [{"responses": 10, "complaints": 4, "hazards": 4}] * 2
    history = [_series("lyon", calm + wave), _series("paris", calm + calm[:2])]

    findings = evaluate(history, START + 31 * WEEK, CONFIG)

    flagged = {(f.scope.site_id, f.metric, f.dimension) for f in findings if f.flagged}
    assert flagged == {
        ("lyon", Metric.COMPLAINT_RATE, None),
        ("lyon", Metric.COMPLAINT_RATE, "hazards"),
    }
    complaints = next(f for f in findings if f.flagged and f.dimension is None)
    assert complaints.sequential is not None
    assert complaints.sequential.name == "poisson_cusum"
    assert complaints.current.value == pytest.approx(4.0)  # a week: no enrolments known
