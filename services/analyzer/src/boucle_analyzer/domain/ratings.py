"""Ratings on any scale, brought to the 1–5 scale auditors read ("taux de satisfaction")."""

from __future__ import annotations

from boucle_contracts.feedback.v1 import ScaleAnswer

SATISFIED_THRESHOLD = 4.0  # 4 or 5 out of 5


def to_five_point(answer: ScaleAnswer) -> float:
    """Linear map of [scale_min, scale_max] onto [1, 5]."""
    span = answer.scale_max - answer.scale_min
    return 1.0 + 4.0 * (answer.value - answer.scale_min) / span


# Ratings are kept in thousandths of a point, as integers: sums are then exact and do not
# depend on the order in which partitions are replayed (float sums would, in the last bit).
MILLI = 1000


def to_milli(five_point: float) -> int:
    return round(five_point * MILLI)


def is_satisfied(five_point: float) -> bool:
    return five_point >= SATISFIED_THRESHOLD
