"""Did an action work? The KPI before it against the KPI after it, with statistical care. Pure.

The figures are the analyzer's exact sums (count, total, total of squares, satisfied) as they
arrive in ``ScopeMetricsUpdated``, summed over the periods of each window. Mean satisfaction is
compared with Welch's t test (one-sided: did it improve?), the satisfaction rate with a
two-proportion z test. Too few answers on either side, or a metric these figures cannot
measure, is *inconclusive*: the action stays done and is evaluated again later.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from boucle_actions.domain import wording
from boucle_actions.domain.actions import Action, Evaluation
from boucle_contracts.actions.v1 import ImprovementActionEvaluated
from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import Metric, Observation, StatisticalTest

# Rates of events (per enrolment) where lower is better; the others: higher is better.
LOWER_IS_BETTER = frozenset({Metric.DROPOUT_RATE, Metric.COMPLAINT_RATE})
PROPORTIONS = frozenset({Metric.SATISFACTION_RATE, *LOWER_IS_BETTER})
MEASURABLE = frozenset({Metric.MEAN_SATISFACTION, Metric.NPS, *PROPORTIONS})


@dataclass(frozen=True, slots=True)
class EvaluationPolicy:
    window: timedelta = timedelta(days=28)
    granularity: Granularity = Granularity.WEEK
    min_sample_size: int = 30
    alpha: float = 0.05
    automatic: bool = True  # the sweep evaluates done actions once their window has passed


@dataclass(frozen=True, slots=True)
class Sums:
    """Sufficient statistics of one dimension over one window."""

    count: int = 0
    total: float = 0.0
    total_squares: float = 0.0
    satisfied: int = 0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def variance(self) -> float:
        if self.count < 2:
            return 0.0
        return max(0.0, (self.total_squares - self.total**2 / self.count) / (self.count - 1))

    @property
    def rate(self) -> float:
        return self.satisfied / self.count if self.count else 0.0


def kpi_scope(action: Action) -> Scope:
    """The analyzer scope the KPI is read on: the action's, dimensions being inside figures."""
    return action.scope.model_copy(update={"dimension": None})


def kpi_dimension(action: Action) -> str:
    if action.kpi is not None and action.kpi.dimension:
        return action.kpi.dimension
    return action.scope.dimension or "overall"


def kpi_metric(action: Action) -> Metric:
    return action.kpi.metric if action.kpi is not None else Metric.MEAN_SATISFACTION


def windows(action: Action, policy: EvaluationPolicy) -> tuple[Period, Period]:
    """Before: the window that ends when the action was created. After: from done on."""
    assert action.done_at is not None
    before = Period(start=action.created_at - policy.window, end=action.created_at)
    after = Period(start=action.done_at, end=action.done_at + policy.window)
    return before, after


def figures_of(snapshot: ScopeMetricsUpdated, metric: Metric, dimension: str) -> Sums:
    """One period's sufficient statistics for ``metric``.

    Ratings come from the dimension's figures. NPS, dropouts and complaints come from
    fields added to ``ScopeMetricsUpdated`` in 1.1, read defensively: an analyzer that does
    not send them yet gives empty sums, hence an inconclusive evaluation.
    """
    if metric in (Metric.MEAN_SATISFACTION, Metric.SATISFACTION_RATE):
        for figures in snapshot.dimensions:
            if figures.dimension == dimension:
                return Sums(figures.count, figures.total, figures.total_squares, figures.satisfied)
        return Sums()
    if metric is Metric.NPS:
        nps = getattr(snapshot, "nps", None)
        promoters = int(getattr(nps, "promoters", 0) or 0)
        detractors = int(getattr(nps, "detractors", 0) or 0)
        answers = promoters + detractors + int(getattr(nps, "passives", 0) or 0)
        # Each answer scores +100, 0 or -100: exact sums for Welch's t.
        return Sums(answers, 100.0 * (promoters - detractors), 1e4 * (promoters + detractors))
    events = {Metric.DROPOUT_RATE: "dropouts", Metric.COMPLAINT_RATE: "complaints"}.get(metric)
    if events is None:
        return Sums()
    enrolments = int(getattr(snapshot, "enrolments", 0) or 0)
    happened = min(enrolments, int(getattr(snapshot, events, 0) or 0))
    return Sums(count=enrolments, satisfied=happened)


def sums_over(
    snapshots: Iterable[ScopeMetricsUpdated],
    *,
    scope_key: str,
    metric: Metric,
    dimension: str,
    granularity: Granularity,
    window: Period,
) -> Sums:
    """Sum the metric's figures over the periods lying wholly inside ``window``."""
    count, total, squares, satisfied = 0, 0.0, 0.0, 0
    for snapshot in snapshots:
        if (
            snapshot.scope.key() != scope_key
            or snapshot.granularity is not granularity
            or snapshot.period.start < window.start
            or snapshot.period.end > window.end
        ):
            continue
        figures = figures_of(snapshot, metric, dimension)
        count += figures.count
        total += figures.total
        squares += figures.total_squares
        satisfied += figures.satisfied
    return Sums(count, total, squares, satisfied)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Lentz's method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return tail if t > 0 else 1.0 - tail


def welch_improvement(before: Sums, after: Sums) -> tuple[float, float]:
    """Welch's t statistic (after − before) and its one-sided p-value (H1: after is higher)."""
    v1, v2 = before.variance / before.count, after.variance / after.count
    diff = after.mean - before.mean
    if v1 + v2 == 0.0:
        return (math.copysign(math.inf, diff) if diff else 0.0), (0.0 if diff > 0 else 1.0)
    t = diff / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (
        (v1**2 / (before.count - 1) if v1 else 0.0) + (v2**2 / (after.count - 1) if v2 else 0.0)
    )
    return t, student_t_sf(t, df)


def two_proportion_improvement(before: Sums, after: Sums) -> tuple[float, float]:
    """Pooled two-proportion z (after − before) and its one-sided p-value."""
    pooled = (before.satisfied + after.satisfied) / (before.count + after.count)
    se = math.sqrt(pooled * (1 - pooled) * (1 / before.count + 1 / after.count))
    diff = after.rate - before.rate
    if se == 0.0:
        return 0.0, (0.0 if diff > 0 else 1.0)
    z = diff / se
    return z, 0.5 * math.erfc(z / math.sqrt(2))


Outcome = Literal["effective", "not_effective", "inconclusive"]


def _conclusion(
    action: Action,
    before: tuple[float, int],
    after: tuple[float, int],
    test: StatisticalTest,
    reached: bool,
) -> str:
    """``La satisfaction moyenne (globale) : 3,20 avant (n = 80), 4,10 après (n = 80) ;
    test de Welch, p < 0,001 ; objectif 4,00 atteint``."""
    metric, dimension = kpi_metric(action), kpi_dimension(action)
    target = action.kpi.target if action.kpi is not None else None

    def shown(figures: tuple[float, int]) -> str:
        return f"{wording.value(metric, figures[0])} (n = {figures[1]})"

    what = wording.capitalised(wording.subject(metric, dimension))
    method = wording.statistical_test(test.name)
    text = (
        f"{what} : {shown(before)} avant, {shown(after)} après ; "
        f"{method}, {wording.p_value(test.p_value)}"
    )
    if target is not None:
        text += f" ; objectif {wording.value(metric, target)} " + (
            "atteint" if reached else "non atteint"
        )
    return text


def evaluate(
    action: Action,
    snapshots: Iterable[ScopeMetricsUpdated],
    *,
    policy: EvaluationPolicy,
    at: datetime,
) -> tuple[Evaluation, ImprovementActionEvaluated]:
    """Compare the KPI before and after the action; conclude, or say why one cannot."""
    metric, dimension = kpi_metric(action), kpi_dimension(action)
    before_window, after_window = windows(action, policy)
    figures = list(snapshots)
    scope_key = kpi_scope(action).key()
    before, after = (
        sums_over(
            figures,
            scope_key=scope_key,
            metric=metric,
            dimension=dimension,
            granularity=policy.granularity,
            window=window,
        )
        for window in (before_window, after_window)
    )

    lower_better = metric in LOWER_IS_BETTER
    scale = 100.0 if metric is Metric.COMPLAINT_RATE else 1.0  # complaints per 100 learners

    def value(sums: Sums) -> float:
        return scale * sums.rate if metric in PROPORTIONS else sums.mean

    def better_or_equal(a: float, b: float) -> bool:
        return a <= b if lower_better else a >= b

    test: StatisticalTest | None = None
    outcome: Outcome
    if metric not in MEASURABLE:
        what = wording.capitalised(wording.subject(metric, None))
        outcome, note = "inconclusive", f"{what} ne se mesure pas avec ces chiffres"
    elif min(before.count, after.count) < policy.min_sample_size:
        outcome = "inconclusive"
        note = (
            f"Trop peu d'observations ({before.count} avant, {after.count} après ; "
            f"minimum {policy.min_sample_size})"
        )
    else:
        # One-sided: did it get better? For lower-is-better rates, before is tested above after.
        first, second = (after, before) if lower_better else (before, after)
        if metric in PROPORTIONS:
            name, (statistic, p_value) = (
                "two_proportion_z",
                two_proportion_improvement(first, second),
            )
        else:
            name, (statistic, p_value) = "welch_t", welch_improvement(first, second)
        test = StatisticalTest(
            name=name,
            statistic=statistic if math.isfinite(statistic) else math.copysign(1e9, statistic),
            p_value=min(1.0, max(0.0, p_value)),
            comparison="own_baseline",
        )
        target = action.kpi.target if action.kpi is not None else None
        reached = (
            target is not None
            and better_or_equal(value(after), target)
            and better_or_equal(value(after), value(before))
        )
        improved = p_value < policy.alpha
        outcome = "effective" if improved or reached else "not_effective"
        note = _conclusion(
            action, (value(before), before.count), (value(after), after.count), test, reached
        )
    evaluation = Evaluation(
        at=at,
        outcome=outcome,
        metric=metric,
        before_value=value(before) if before.count else None,
        before_size=before.count,
        after_value=value(after) if after.count else None,
        after_size=after.count,
        p_value=test.p_value if test else None,
        note=note,
    )
    event = ImprovementActionEvaluated(
        action_id=action.action_id,
        outcome=outcome,
        metric=metric,
        before=Observation(value=value(before), sample_size=before.count, period=before_window),
        after=Observation(value=value(after), sample_size=after.count, period=after_window),
        test=test,
        evaluated_at=at,
        note=note[:500],
    )
    return evaluation, event
