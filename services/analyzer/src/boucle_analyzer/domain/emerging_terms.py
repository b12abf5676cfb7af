"""Comment stems whose share rose against the baseline (moved from ``themes``). Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from boucle_analyzer.domain.statistics import benjamini_hochberg, poisson_rate_test


@dataclass(frozen=True, slots=True)
class EmergingTerm:
    stem: str
    current: int  # comments holding it, in the current window
    baseline: int
    ratio: float  # rate ratio, current per comment over baseline per comment (smoothed)
    p_value: float
    adjusted_p_value: float


def emerging_terms(
    current: Counter[str],
    current_comments: int,
    baseline: Counter[str],
    baseline_comments: int,
    *,
    min_count: int = 5,
    alpha: float = 0.05,
) -> list[EmergingTerm]:
    """Stems whose share of comments rose against the baseline, strongest first.

    Each stem is tested with the exact conditional binomial test of two Poisson rates
    (exposures: the comment counts), Benjamini–Hochberg over every stem tested.
    """
    if current_comments == 0 or baseline_comments == 0:
        return []
    candidates = sorted(s for s, c in current.items() if c >= min_count)
    tests = [
        poisson_rate_test(current[s], current_comments, baseline[s], baseline_comments)
        for s in candidates
    ]
    adjusted = benjamini_hochberg([t.p_value for t in tests])
    found = [
        EmergingTerm(
            stem=stem,
            current=current[stem],
            baseline=baseline[stem],
            ratio=((current[stem] + 0.5) / current_comments)
            / ((baseline[stem] + 0.5) / baseline_comments),
            p_value=test.p_value,
            adjusted_p_value=q,
        )
        for stem, test, q in zip(candidates, tests, adjusted, strict=True)
        if q < alpha
    ]
    return sorted(found, key=lambda t: (t.adjusted_p_value, -t.ratio, t.stem))
