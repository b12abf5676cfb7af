"""Response rates that mean something: people who answered ÷ people asked.

Only solicitations that reached someone count as asked (sent, or answered by a link
shared otherwise); an answered solicitation is always among them, so a rate can never
exceed 100 %. A group nobody was asked in has no rate (``None``: "non calculable"),
never 0 % or a division by a headcount.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from boucle_surveys.domain.solicitation import Solicitation, Status

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class ResponseRate:
    solicited: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.solicited if self.solicited else None


def counted(solicitation: Solicitation) -> tuple[bool, bool]:
    """(asked, answered) for one solicitation."""
    answered = solicitation.status is Status.ANSWERED
    return (answered or solicitation.was_sent, answered)


def response_rates(
    solicitations: Iterable[Solicitation], key: Callable[[Solicitation], K]
) -> dict[K, ResponseRate]:
    asked: dict[K, int] = defaultdict(int)
    answers: dict[K, int] = defaultdict(int)
    for solicitation in solicitations:
        was_asked, answered = counted(solicitation)
        if not was_asked:
            continue
        group = key(solicitation)
        asked[group] += 1
        answers[group] += answered
    return {group: ResponseRate(asked[group], answers[group]) for group in asked}
