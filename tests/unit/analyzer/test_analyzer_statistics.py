"""The tests behind degradation flags, on known cases: scipy's raw-data results and textbooks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from boucle_analyzer.domain.statistics import (
    Sample,
    benjamini_hochberg,
    poisson_rate_test,
    proportion_higher,
    proportion_lower,
    welch_t_lower,
)

pytestmark = pytest.mark.unit


def _sample(values: list[float]) -> Sample:
    return Sample(len(values), sum(values), sum(v * v for v in values))


def test_sample_mean_and_unbiased_variance_from_sums() -> None:
    sample = _sample([2, 4, 4, 4, 5, 5, 7, 9])

    assert sample.mean == 5
    assert sample.variance == pytest.approx(32 / 7)  # sum of squared deviations 32, n - 1 = 7


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_welch_from_sums_matches_scipy_on_the_raw_ratings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    current = rng.choice([1, 2, 3, 4, 5], size=35, p=[0.15, 0.2, 0.25, 0.25, 0.15]).tolist()
    baseline = rng.choice([1, 2, 3, 4, 5], size=240, p=[0.05, 0.05, 0.15, 0.35, 0.4]).tolist()

    ours = welch_t_lower(_sample(current), _sample(baseline))
    reference = stats.ttest_ind(current, baseline, equal_var=False, alternative="less")

    assert ours.name == "welch_t"
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-7)


def test_welch_textbook_case() -> None:
    # Means 20 and 22, variances 4 and 9, n = 10 and 12: se² = 0.4 + 0.75 = 1.15,
    # t = -2 / sqrt(1.15) = -1.8650; Welch-Satterthwaite df = 1.15² / (0.4²/9 + 0.75²/11)
    current = Sample(10, 200.0, 10 * (4 * 9 / 10 + 400))
    baseline = Sample(12, 264.0, 12 * (9 * 11 / 12 + 484))

    result = welch_t_lower(current, baseline)

    df = 1.15**2 / (0.4**2 / 9 + 0.75**2 / 11)
    assert result.statistic == pytest.approx(-2 / math.sqrt(1.15))
    assert result.p_value == pytest.approx(stats.t.cdf(-2 / math.sqrt(1.15), df))
    assert df == pytest.approx(19.19, abs=0.01)


def test_a_higher_current_mean_is_no_degradation() -> None:
    assert welch_t_lower(_sample([5, 5, 4, 5]), _sample([3, 2, 3, 4, 3])).p_value > 0.9


def test_two_proportion_z_textbook_case() -> None:
    # 60/100 satisfied now against 150/200 before: pooled 0.7, se = sqrt(.21 · .015)
    result = proportion_lower(60, 100, 150, 200)

    z = (0.60 - 0.75) / math.sqrt(0.7 * 0.3 * (1 / 100 + 1 / 200))
    assert result.name == "two_proportion_z"
    assert result.statistic == pytest.approx(z)
    assert z == pytest.approx(-2.6726, abs=1e-4)
    assert result.p_value == pytest.approx(stats.norm.cdf(z))


def test_small_counts_use_fishers_exact_test() -> None:
    result = proportion_higher(4, 10, 1, 40)

    reference = stats.fisher_exact([[4, 6], [1, 39]], alternative="greater")
    assert result.name == "fisher_exact"
    assert result.p_value == pytest.approx(reference.pvalue)
    # Hypergeometric by hand: P(X >= 4), 5 successes among 50, 10 drawn.
    by_hand = sum(math.comb(5, k) * math.comb(45, 10 - k) / math.comb(50, 10) for k in range(4, 6))
    assert result.p_value == pytest.approx(by_hand)


def test_poisson_rate_ratio_is_the_exact_conditional_binomial_test() -> None:
    # 12 complaints for 200 learners now, 10 for 600 before: given 22 complaints, the
    # current share is binomial(22, 200/800 = 0.25) when the rates are equal.
    result = poisson_rate_test(12, 200, 10, 600)

    by_hand = sum(math.comb(22, k) * 0.25**k * 0.75 ** (22 - k) for k in range(12, 23))
    assert result.name == "poisson_rate_ratio"
    assert result.statistic == pytest.approx(3.6)
    assert result.p_value == pytest.approx(by_hand)
    assert result.p_value < 0.01


def test_no_events_at_all_is_no_evidence() -> None:
    assert poisson_rate_test(0, 100, 0, 300).p_value == 1.0


def test_benjamini_hochberg_on_the_1995_paper_example() -> None:
    # Benjamini & Hochberg (1995), section 4: 15 p-values, 4 rejected at q = 0.05.
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
         0.4262, 0.5719, 0.6528, 0.7590, 1.0000]  # fmt: skip

    adjusted = benjamini_hochberg(p)

    assert sum(q < 0.05 for q in adjusted) == 4
    assert adjusted[0] == pytest.approx(0.0015)
    assert adjusted[3] == pytest.approx(0.0095 * 15 / 4)
    # step-up: q(i) = min over j >= i of p(j)·m/j
    assert adjusted[4] == pytest.approx(min(p[j] * 15 / (j + 1) for j in range(4, 15)))
    assert adjusted[-1] == 1.0


def test_benjamini_hochberg_keeps_the_input_order_and_monotonicity() -> None:
    p = [0.04, 0.001, 0.03, 0.5]

    adjusted = benjamini_hochberg(p)

    # sorted: 0.001·4/1, 0.03·4/2 = 0.06 lowered to 0.04·4/3 by the step-up, 0.04·4/3, 0.5
    assert adjusted == pytest.approx([0.04 * 4 / 3, 0.004, 0.04 * 4 / 3, 0.5])
    order = sorted(range(4), key=lambda i: p[i])
    assert [adjusted[i] for i in order] == sorted(adjusted)
    assert benjamini_hochberg([]) == []
