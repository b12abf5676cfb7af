"""Tests suited to the analyzer's data, and false-discovery control. Pure (scipy, numpy).

Every test here is one-sided in the direction of a degradation: a lower mean rating, a
lower satisfaction share, a higher complaint or dropout rate. They work from the exact
sums the aggregates keep (count, total, sum of squares), never from raw ratings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats  # type: ignore[import-untyped]

# Below this expected count in any cell, the normal approximation is not trusted: Fisher.
MIN_EXPECTED_FOR_Z = 5.0


@dataclass(frozen=True, slots=True)
class Sample:
    """A sample of ratings through its sufficient statistics."""

    count: int
    total: float
    total_squares: float

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def variance(self) -> float:
        """Unbiased sample variance (0 for fewer than two values)."""
        if self.count < 2:
            return 0.0
        return max(0.0, (self.total_squares - self.total**2 / self.count) / (self.count - 1))


@dataclass(frozen=True, slots=True)
class TestResult:
    name: str
    statistic: float
    p_value: float


def welch_t_lower(current: Sample, baseline: Sample) -> TestResult:
    """Welch's t-test that the current mean is below the baseline mean (unequal variances)."""
    v1, v2 = current.variance / current.count, baseline.variance / baseline.count
    diff = current.mean - baseline.mean
    se2 = v1 + v2
    if se2 == 0:
        return TestResult(
            "welch_t", 0.0 if diff == 0 else math.copysign(math.inf, diff), 0.0 if diff < 0 else 1.0
        )
    t = diff / math.sqrt(se2)
    df = se2**2 / (
        (v1**2 / (current.count - 1) if current.count > 1 else 0.0)
        + (v2**2 / (baseline.count - 1) if baseline.count > 1 else 0.0)
    )
    # special.stdtr is stats.t.cdf without its argument checks: 50 times faster per call
    return TestResult("welch_t", t, float(special.stdtr(df, t)))


def proportion_lower(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """That the current share x1/n1 is below the baseline x2/n2.

    Pooled two-proportion z-test when every expected cell count reaches 5; otherwise
    Fisher's exact test (one-sided).
    """
    return _proportions(x1, n1, x2, n2, lower=True)


def proportion_higher(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """That the current share x1/n1 is above the baseline x2/n2 (e.g. dropouts)."""
    return _proportions(x1, n1, x2, n2, lower=False)


def _proportions(x1: int, n1: int, x2: int, n2: int, *, lower: bool) -> TestResult:
    pooled = (x1 + x2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if expected < MIN_EXPECTED_FOR_Z:
        table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
        result = stats.fisher_exact(table, alternative="less" if lower else "greater")
        return TestResult("fisher_exact", float(result.statistic), float(result.pvalue))
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se
    p = float(special.ndtr(z)) if lower else float(special.ndtr(-z))
    return TestResult("two_proportion_z", z, p)


def poisson_rate_test(c1: int, e1: float, c2: int, e2: float) -> TestResult:
    """That the current rate c1/e1 exceeds the baseline rate c2/e2 (counts per exposure).

    Exact conditional test: given c1 + c2 events, c1 is binomial with probability
    e1 / (e1 + e2) when the rates are equal. The statistic is the rate ratio.
    """
    total = c1 + c2
    ratio = (c1 / e1) / (c2 / e2) if c2 else math.inf if c1 else 1.0
    if total == 0:
        return TestResult("poisson_rate_ratio", ratio, 1.0)
    result = stats.binomtest(c1, total, e1 / (e1 + e2), alternative="greater")
    return TestResult("poisson_rate_ratio", ratio, float(result.pvalue))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order.

    q_(i) = min over j ≥ i of p_(j) · m / j, capped at 1; rejecting q < α controls the
    false discovery rate at α for independent or positively dependent tests.
    """
    m = len(p_values)
    if m == 0:
        return []
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = running
    return adjusted
