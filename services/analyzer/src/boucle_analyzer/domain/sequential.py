"""Sequential evidence: one-sided CUSUMs over weekly figures. Pure.

A window test needs enough ratings in one window before it can say anything; a CUSUM adds
each week's log-likelihood ratio of "degraded" against "as usual" and resets at zero, so a
small scope's evidence builds up week after week and a large drop still shows in one week.

- Ratings: each week's mean of n ratings is normal around the baseline mean μ0 (variance
  σ²/n) as usual, around μ0 − d when degraded by ``shift`` d. The week adds
  n·d·(μ0 − x̄)/σ² − n·d²/(2σ²).
- Counts (complaints, hazards, dropouts): a week's count is Poisson with the baseline mean
  λ0 as usual, ρ·λ0 in a surge of ratio ρ. The week adds c·ln ρ − λ0·(ρ − 1).

The statistic is the CUSUM at the last week; ``start`` is the first week of its current run
(the weeks the evidence was gathered on, to report their values). The threshold ``h`` is not
derived here: it is calibrated by simulation (``bench.analyzer.detection --calibrate``) so
that the false alarms stay under budget across all the scopes of a network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from boucle_analyzer.domain.statistics import Sample

MIN_VARIANCE = 0.25  # a baseline of identical ratings must not make every dip infinite
COUNT_PRIOR = 0.5  # events added to a baseline count: a scope that never complained has a rate


@dataclass(frozen=True, slots=True)
class Cusum:
    statistic: float
    start: int  # index of the first week of the current run; len(weeks) when at zero


def _run(increments: Sequence[float]) -> Cusum:
    statistic, start = 0.0, 0
    for index, increment in enumerate(increments):
        if statistic <= 0.0:
            start = index
        statistic = max(0.0, statistic + increment)
    return Cusum(statistic, start if statistic > 0 else len(increments))


def rating_cusum(
    weeks: Sequence[Sample | None],
    baseline: Sample,
    shift: float,
    clip: float | None = None,
    prior_weight: float | None = None,
) -> Cusum:
    """CUSUM for a drop of ``shift`` points below the baseline mean (None: no rating).

    With z the week's standardized drop √n·(μ0 − x̄)/s and δ = √n·d/σ the drop it is tuned
    to (σ: the baseline's SD), a week adds δ·(z − δ/2): the log-likelihood ratio above.
    Ratings are bounded and skewed: a single 1 among six ratings of 4-5 is a 2-σ week, and
    such weeks, not lasting drops, made most of the false alarms on the bench's calm
    networks (docs/benchmarks.md). Two guards, either or both:

    - ``prior_weight`` (self-normalised): s² is the week's own variance shrunk towards the
      baseline's, (w·σ² + (n−1)·s²_week) / (w + n − 1). A week pulled down by a few
      outliers has a large own variance, so its z stays moderate, while a week where the
      whole distribution moved keeps its z: the tail is lighter than the clip's without
      capping what a real drop adds in a week.
    - ``clip``: z bounded to ±(δ + clip), the former guard.
    """
    sigma2 = max(MIN_VARIANCE, baseline.variance)
    sigma = math.sqrt(sigma2)
    mean0 = baseline.mean
    increments = []
    for week in weeks:
        if week is None or week.count == 0:
            increments.append(0.0)
            continue
        root = math.sqrt(week.count)
        delta = root * shift / sigma
        scale = sigma
        if prior_weight is not None:
            own = (week.count - 1) * week.variance
            scale = math.sqrt((prior_weight * sigma2 + own) / (prior_weight + week.count - 1))
        z = root * (mean0 - week.mean) / scale
        if clip is not None:
            z = max(-delta - clip, min(delta + clip, z))
        increments.append(delta * (z - delta / 2))
    return _run(increments)


def baseline_rate(events: int, weeks: int) -> float:
    """Events per week of a baseline, with a half event of prior (never exactly zero)."""
    return (events + COUNT_PRIOR) / max(1, weeks)


def count_cusum(weeks: Sequence[int], rate: float, ratio: float) -> Cusum:
    """CUSUM for weekly counts rising ``ratio`` times above ``rate`` (Poisson)."""
    log_ratio = math.log(ratio)
    return _run([count * log_ratio - rate * (ratio - 1) for count in weeks])


def ville_bound(statistic: float) -> float:
    """Under no change, a likelihood ratio reaches e^S with probability at most e^-S (Ville's
    inequality): the p-value a CUSUM statistic can honestly be given, for one start week."""
    return min(1.0, math.exp(-statistic))
