"""What a detected degradation carries about its comments: top themes, shares, examples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from boucle_analyzer.domain.ports import CommentRecord
from boucle_analyzer.domain.theme_shares import example_comment_ids, theme_shares

pytestmark = pytest.mark.unit
AT = datetime(2025, 5, 5, tzinfo=UTC)


def _comment(comment_id: str, *themes: str) -> CommentRecord:
    return CommentRecord(
        comment_id=comment_id,
        network_id="net",
        scope_keys=("net/level:network",),
        at=AT,
        source="survey",
        themes=themes,
        negative=True,
        stems=(),
        event_id=f"e-{comment_id}",
    )


def test_the_most_cited_themes_come_first_with_their_share_of_negative_comments() -> None:
    counts = {
        "negative_comments": 8,
        "responses": 40,
        "themes.trainer": 2,
        "themes.platform": 6,
        "themes.content": 2,
        "themes.materials": 0,
    }

    shares = theme_shares(counts)

    assert [(s.theme, s.share, s.comment_count) for s in shares] == [
        ("platform", 0.75, 6),
        ("content", 0.25, 2),  # ties by name
        ("trainer", 0.25, 2),
    ]


def test_only_the_top_themes_are_kept() -> None:
    counts = {"negative_comments": 20} | {f"themes.t{i}": 10 - i for i in range(7)}

    assert [s.theme for s in theme_shares(counts)] == ["t0", "t1", "t2", "t3", "t4"]
    assert [s.theme for s in theme_shares(counts, top=2)] == ["t0", "t1"]


def test_a_share_is_capped_at_one_and_zero_without_negative_comments() -> None:
    assert [s.share for s in theme_shares({"negative_comments": 2, "themes.platform": 3})] == [1.0]
    assert [s.share for s in theme_shares({"themes.platform": 3})] == [0.0]
    assert theme_shares({"negative_comments": 4}) == ()


def test_examples_on_the_degradation_dimension_come_first() -> None:
    candidates = [
        _comment("c1", "trainer"),
        _comment("c2", "platform"),
        _comment("c3", "platform", "content"),
        _comment("c4"),
        _comment("c5", "platform"),
        _comment("c6", "platform"),
    ]

    assert example_comment_ids(candidates, "platform") == ("c2", "c3", "c5")
    assert example_comment_ids(candidates, "platform", limit=1) == ("c2",)


def test_without_a_comment_on_the_dimension_any_negative_comment_is_an_example() -> None:
    candidates = [_comment("c1", "trainer"), _comment("c2"), _comment("c3"), _comment("c4")]

    assert example_comment_ids(candidates, "overall") == ("c1", "c2", "c3")
    assert example_comment_ids(candidates, None) == ("c1", "c2", "c3")
    assert example_comment_ids([], "platform") == ()
