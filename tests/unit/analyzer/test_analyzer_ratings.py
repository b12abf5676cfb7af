"""Ratings on any scale brought to 1–5, and what counts as satisfied."""

from __future__ import annotations

import pytest

from boucle_analyzer.domain.ratings import SATISFIED_THRESHOLD, is_satisfied, to_five_point
from boucle_contracts.feedback.v1 import ScaleAnswer

pytestmark = pytest.mark.unit


def _scale(value: float, scale_min: int = 1, scale_max: int = 5) -> ScaleAnswer:
    return ScaleAnswer(
        type="scale", question_id="q", value=value, scale_min=scale_min, scale_max=scale_max
    )


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5])
def test_a_one_to_five_rating_keeps_its_value(value: int) -> None:
    assert to_five_point(_scale(value)) == float(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1.0), (2.5, 2.0), (5, 3.0), (7.5, 4.0), (10, 5.0)],
)
def test_a_zero_to_ten_rating_maps_linearly_onto_one_to_five(value: float, expected: float) -> None:
    assert to_five_point(_scale(value, 0, 10)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (2, 1.0 + 4 / 3), (3, 1.0 + 8 / 3), (4, 5.0)],
)
def test_a_one_to_four_rating_maps_its_ends_onto_one_and_five(value: int, expected: float) -> None:
    assert to_five_point(_scale(value, 1, 4)) == pytest.approx(expected, abs=1e-12)


def test_the_same_relative_position_gives_the_same_rating_on_every_scale() -> None:
    top_quarter = [_scale(4), _scale(7.5, 0, 10), _scale(3.25, 1, 4)]

    assert {to_five_point(answer) for answer in top_quarter} == {4.0}


def test_satisfied_means_four_or_more_out_of_five() -> None:
    assert SATISFIED_THRESHOLD == 4.0
    assert is_satisfied(4.0)
    assert is_satisfied(5.0)
    assert not is_satisfied(3.999)
    assert not is_satisfied(1.0)


@pytest.mark.parametrize(
    ("answer", "satisfied"),
    [
        (_scale(4), True),
        (_scale(3), False),
        (_scale(8, 0, 10), True),  # 4.2
        (_scale(7, 0, 10), False),  # 3.8
        (_scale(4, 1, 4), True),
        (_scale(3, 1, 4), False),  # 3.67: a "3 out of 4" is below the 1–5 threshold
    ],
)
def test_satisfaction_is_judged_on_the_normalised_rating(
    answer: ScaleAnswer, satisfied: bool
) -> None:
    assert is_satisfied(to_five_point(answer)) is satisfied
