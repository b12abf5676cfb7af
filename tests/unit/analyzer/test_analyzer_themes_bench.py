"""The themes benchmark's labelled set and scoring (no model)."""

from __future__ import annotations

from collections import Counter

import pytest
from bench.analyzer.themes import Comment, load, quality

from boucle_analyzer.adapters.taxonomy_files import DEFAULT_TAXONOMY, load_taxonomy

pytestmark = pytest.mark.unit
THEMES = list(load_taxonomy(DEFAULT_TAXONOMY).themes)


def test_the_labelled_set_covers_every_theme_with_a_held_out_part() -> None:
    comments = load()

    assert len(comments) >= 180
    assert sum(c.split == "heldout" for c in comments) >= 60
    assert {c.split for c in comments} == {"dev", "heldout", "heldout_late"}
    assert len({c.id for c in comments}) == len(comments)
    per_theme = Counter(t for c in comments for t in c.themes)
    assert set(per_theme) == set(THEMES)
    assert min(per_theme.values()) >= 10
    assert {"learner", "company", "funder", "trainer"} <= {c.speaker for c in comments}
    assert sum(not c.negative for c in comments) >= 30
    tags = {t for c in comments for t in c.tags}
    assert {"negation", "no_accents", "typo", "contrast", "positive", "neutral"} <= tags


def _comment(themes: set[str], negative: bool) -> Comment:
    return Comment("c", "…", frozenset(themes), negative, "dev", "learner", ())


def test_scores_count_each_theme_of_each_comment() -> None:
    comments = [_comment({"platform"}, True), _comment(set(), False), _comment({"trainer"}, True)]
    predicted = [
        (frozenset({"platform", "content"}), True),
        (frozenset(), True),
        (frozenset(), True),
    ]

    scores = quality(comments, predicted, ["platform", "trainer", "content"])

    assert scores["per_theme"]["platform"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 1,
    }
    assert scores["per_theme"]["content"]["precision"] == 0.0
    assert scores["per_theme"]["trainer"]["recall"] == 0.0
    assert scores["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert scores["negative_accuracy"] == round(2 / 3, 3)
    assert scores["exact_themes"] == round(1 / 3, 3)
    assert len(scores["errors"]) == 3  # an extra theme, a false negative flag, a missed theme
