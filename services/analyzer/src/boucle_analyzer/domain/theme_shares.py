"""What a detected degradation says about its comments: top themes and example ids. Pure.

Both come from the degradation's current window: the theme counters of its weekly
aggregates (``negative_comments`` and ``themes.<theme>``, counted among negative comments
only) and the minimal records of its negative comments, so a reader sees what people
complained about without the analyzer keeping any text.
"""

from __future__ import annotations

from collections.abc import Sequence

from boucle_analyzer.domain.figures import Counts
from boucle_analyzer.domain.ports import CommentRecord
from boucle_contracts.signals.v1 import ThemeShare

TOP_THEMES = 5
EXAMPLE_COMMENTS = 3
THEME_PREFIX = "themes."


def theme_shares(counts: Counts, *, top: int = TOP_THEMES) -> tuple[ThemeShare, ...]:
    """The ``top`` themes most cited by negative comments, each with its share of them.

    Most cited first, ties by theme name. A comment may name several themes, so the shares
    may add up to more than 1; each is capped at 1, and is 0 when no negative comment was
    counted.
    """
    negative = counts.get("negative_comments", 0)
    cited = sorted(
        (
            (name.removeprefix(THEME_PREFIX), value)
            for name, value in counts.items()
            if name.startswith(THEME_PREFIX) and value
        ),
        key=lambda item: (-item[1], item[0]),
    )[:top]
    return tuple(
        ThemeShare(
            theme=theme,
            share=min(1.0, count / negative) if negative else 0.0,
            comment_count=count,
        )
        for theme, count in cited
    )


def example_comment_ids(
    candidates: Sequence[CommentRecord], dimension: str | None, *, limit: int = EXAMPLE_COMMENTS
) -> tuple[str, ...]:
    """The first ``limit`` candidates on the degradation's dimension, else the first ones.

    A rating dimension and a theme share their slug when they name the same part of the
    training ("platform"), so comments on that theme explain a drop on that dimension best;
    when none is (or the degradation has no dimension) any negative comment of the window is
    still better than none.
    """
    on_topic = [c for c in candidates if dimension in c.themes] or list(candidates)
    return tuple(c.comment_id for c in on_topic[:limit])
