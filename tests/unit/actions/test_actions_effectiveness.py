"""Effectiveness: the KPI before vs after an action, from the analyzer's exact sums."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from boucle_actions.domain.actions import Action, ActionDetails, new_action
from boucle_actions.domain.effectiveness import (
    EvaluationPolicy,
    Sums,
    evaluate,
    student_t_sf,
    two_proportion_improvement,
    welch_improvement,
)
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, KpiTarget
from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import DimensionFigures, Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric

pytestmark = pytest.mark.unit

SITE = Scope(level=ScopeLevel.SITE, network_id="net", site_id="lyon")
CREATED = datetime(2025, 3, 17, tzinfo=UTC)  # a Monday
DONE = datetime(2025, 5, 5, tzinfo=UTC)
POLICY = EvaluationPolicy(window=timedelta(days=28), min_sample_size=30)


def figures(dimension: str, ratings: Sequence[int]) -> DimensionFigures:
    return DimensionFigures(
        dimension=dimension,
        count=len(ratings),
        total=sum(ratings),
        total_squares=sum(r * r for r in ratings),
        satisfied=sum(1 for r in ratings if r >= 4),
    )


def week(start: datetime, ratings: Sequence[int], scope: Scope = SITE) -> ScopeMetricsUpdated:
    return ScopeMetricsUpdated(
        scope=scope,
        granularity=Granularity.WEEK,
        period=Period(start=start, end=start + timedelta(days=7)),
        responses=len(ratings),
        dimensions=(figures("platform", ratings), figures("overall", [4] * len(ratings))),
        revision=1,
        last_event_id="evt-1",
    )


def weeks(first: datetime, count: int, ratings: Sequence[int]) -> list[ScopeMetricsUpdated]:
    return [week(first + timedelta(days=7 * n), ratings) for n in range(count)]


def done_action(metric: Metric = Metric.MEAN_SATISFACTION, target: float = 4.0) -> Action:
    made = new_action(
        action_id="act-1",
        details=ActionDetails(
            title="t",
            problem="p",
            kpi=KpiTarget(metric=metric, dimension="platform", target=target),
        ),
        scope=SITE,
        origin=ActionOrigin.MANUAL,
        actor="u",
        at=CREATED,
    )
    return made.model_copy(update={"status": ActionStatus.DONE, "done_at": DONE})


BEFORE = weeks(CREATED - timedelta(days=28), 4, [2, 3, 2, 3, 3, 2, 3, 2, 3, 3])  # mean 2.6
RECOVERED = weeks(DONE, 4, [4, 5, 4, 4, 5, 4, 3, 5, 4, 4])  # mean 4.2
STILL_LOW = weeks(DONE, 4, [2, 3, 3, 2, 3, 2, 3, 3, 2, 3])  # mean 2.6


def test_student_t_tail_matches_the_tables() -> None:
    assert student_t_sf(2.228, 10) == pytest.approx(0.025, abs=2e-4)
    assert student_t_sf(1.96, 1e6) == pytest.approx(0.025, abs=2e-4)
    assert student_t_sf(0.0, 7) == pytest.approx(0.5)
    assert student_t_sf(-2.228, 10) == pytest.approx(0.975, abs=2e-4)


def test_welch_from_exact_sums_matches_the_textbook_formula() -> None:
    before = Sums(count=4, total=10.0, total_squares=30.0)  # 1,2,3,4: mean 2.5, var 5/3
    after = Sums(count=3, total=12.0, total_squares=50.0)  # 3,4,5: mean 4, var 1

    t, p = welch_improvement(before, after)

    expected_t = (4 - 2.5) / math.sqrt((5 / 3) / 4 + 1 / 3)
    assert t == pytest.approx(expected_t)
    assert 0 < p < 0.5


def test_two_proportion_z_is_positive_when_the_rate_rises() -> None:
    z, p = two_proportion_improvement(Sums(count=100, satisfied=50), Sums(count=100, satisfied=70))

    assert z == pytest.approx(2.887, abs=1e-3)
    assert p == pytest.approx(0.00195, abs=1e-4)


def test_an_action_is_effective_where_the_kpi_recovered() -> None:
    evaluation, event = evaluate(done_action(), BEFORE + RECOVERED, policy=POLICY, at=DONE)

    assert evaluation.outcome == event.outcome == "effective"
    assert (event.before.sample_size, event.after.sample_size) == (40, 40)
    assert event.before.value == pytest.approx(2.6)
    assert event.after.value == pytest.approx(4.2)
    assert event.test is not None
    assert event.test.name == "welch_t"
    assert event.test.p_value < 0.001
    assert event.before.period == Period(start=CREATED - timedelta(days=28), end=CREATED)


def test_an_action_is_not_effective_where_the_kpi_did_not_recover() -> None:
    evaluation, event = evaluate(done_action(), BEFORE + STILL_LOW, policy=POLICY, at=DONE)

    assert evaluation.outcome == "not_effective"
    assert event.test is not None
    assert event.test.p_value > 0.05


def test_the_satisfaction_rate_is_compared_as_proportions() -> None:
    action = done_action(Metric.SATISFACTION_RATE, target=0.8)

    recovered, event = evaluate(action, BEFORE + RECOVERED, policy=POLICY, at=DONE)
    still_low, _ = evaluate(action, BEFORE + STILL_LOW, policy=POLICY, at=DONE)

    assert recovered.outcome == "effective"
    assert event.test is not None
    assert event.test.name == "two_proportion_z"
    assert event.after.value == pytest.approx(0.9)
    assert still_low.outcome == "not_effective"


def test_too_few_answers_is_inconclusive() -> None:
    few = [week(DONE, [5, 5, 5])]

    evaluation, event = evaluate(done_action(), BEFORE + few, policy=POLICY, at=DONE)

    assert evaluation.outcome == "inconclusive"
    assert event.test is None
    assert "Trop peu" in evaluation.note


def test_a_metric_the_figures_cannot_measure_is_inconclusive() -> None:
    evaluation, _ = evaluate(
        done_action(Metric.RESPONSE_RATE), BEFORE + RECOVERED, policy=POLICY, at=DONE
    )

    assert evaluation.outcome == "inconclusive"


def counts(start: datetime, **fields: Any) -> ScopeMetricsUpdated:
    """A week of the 1.1 figures (NPS, enrolments, dropouts, complaints), read defensively."""
    return ScopeMetricsUpdated.model_validate(
        week(start, []).model_dump() | {"dimensions": ()} | fields
    )


def four_weeks(first: datetime, **fields: Any) -> list[ScopeMetricsUpdated]:
    return [counts(first + timedelta(days=7 * n), **fields) for n in range(4)]


@pytest.mark.parametrize(
    ("after", "outcome"),
    [
        ({"promoters": 20, "passives": 5, "detractors": 5}, "effective"),  # NPS -20 → +50
        ({"promoters": 10, "passives": 5, "detractors": 15}, "not_effective"),  # unchanged
    ],
)
def test_nps_is_compared_from_promoters_and_detractors(after: dict[str, int], outcome: str) -> None:
    before = four_weeks(
        CREATED - timedelta(days=28), nps={"promoters": 10, "passives": 5, "detractors": 15}
    )

    evaluation, event = evaluate(
        done_action(Metric.NPS, target=30),
        before + four_weeks(DONE, nps=after),
        policy=POLICY,
        at=DONE,
    )

    assert evaluation.outcome == outcome
    assert event.before.value == pytest.approx(-100 / 6)
    assert event.before.sample_size == 120


@pytest.mark.parametrize(
    ("metric", "field", "scale"),
    [(Metric.DROPOUT_RATE, "dropouts", 1.0), (Metric.COMPLAINT_RATE, "complaints", 100.0)],
)
def test_event_rates_per_enrolment_improve_when_they_fall(
    metric: Metric, field: str, scale: float
) -> None:
    before = four_weeks(CREATED - timedelta(days=28), enrolments=50, **{field: 10})
    fell = four_weeks(DONE, enrolments=50, **{field: 2})
    rose = four_weeks(DONE, enrolments=50, **{field: 12})
    action = done_action(metric, target=0.05 * scale)

    better, event = evaluate(action, before + fell, policy=POLICY, at=DONE)
    worse, _ = evaluate(action, before + rose, policy=POLICY, at=DONE)

    assert better.outcome == "effective"
    assert event.before.value == pytest.approx(0.2 * scale)
    assert event.after.value == pytest.approx(0.04 * scale)
    assert event.test is not None
    assert event.test.statistic > 0
    assert worse.outcome == "not_effective"


def test_figures_an_older_analyzer_does_not_send_are_inconclusive() -> None:
    evaluation, _ = evaluate(
        done_action(Metric.DROPOUT_RATE), BEFORE + RECOVERED, policy=POLICY, at=DONE
    )

    assert evaluation.outcome == "inconclusive"


def test_only_the_action_scope_and_whole_periods_in_each_window_count() -> None:
    elsewhere = Scope(level=ScopeLevel.SITE, network_id="net", site_id="paris")
    noise = [
        week(DONE, [5] * 50, scope=elsewhere),  # another site
        week(DONE + timedelta(days=25), [5] * 50),  # straddles the window's end
    ]

    evaluation, event = evaluate(done_action(), BEFORE + STILL_LOW + noise, policy=POLICY, at=DONE)

    assert event.after.sample_size == 40
    assert evaluation.outcome == "not_effective"


def test_reaching_the_target_counts_as_effective_even_without_significance() -> None:
    before = weeks(CREATED - timedelta(days=28), 4, [4, 4, 4, 4, 4, 5, 3, 4, 4, 4])  # 4.0
    after = weeks(DONE, 4, [4, 4, 4, 4, 4, 5, 3, 4, 4, 5])  # 4.1

    evaluation, _ = evaluate(done_action(target=4.05), before + after, policy=POLICY, at=DONE)

    assert evaluation.outcome == "effective"
    assert evaluation.note == (
        "La satisfaction moyenne (plateforme) : 4,00 (n = 40) avant, 4,10 (n = 40) après ; "
        "test de Welch, p = 0,188 ; objectif 4,05 atteint"
    )
