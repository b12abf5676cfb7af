"""The small-sample detection benchmark: generator, scoring, live vs import (smoke)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

import numpy as np
import pytest
from bench.analyzer.network import NETWORK
from bench.analyzer.problem_quality import Tracked, detect_problems, score_problems
from bench.analyzer.replay import compare
from bench.analyzer.sensitivity import detect, score
from bench.analyzer.sparse_network import Injected, generate

from boucle_analyzer.domain.detection import DetectionConfig
from boucle_analyzer.domain.problems import Member, Problem
from boucle_contracts.common import Period
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation, Severity

pytestmark = pytest.mark.unit


def test_the_generator_builds_sites_trainers_and_the_network_with_8_to_15_responses() -> None:
    network = generate(3, sites=6, weeks=34)

    levels = [s.scope.level for s in network.series]
    assert levels.count(ScopeLevel.SITE) == 6
    assert levels.count(ScopeLevel.TRAINER) == 12
    assert levels.count(ScopeLevel.NETWORK) == 1
    assert all(8 <= volume <= 15 for volume in network.sites.values())
    assert len([i for i in network.injected if i.group is None]) == 2
    assert generate(3, sites=6, weeks=34, calm=True).injected == []


def test_shared_problems_hit_3_to_5_free_sites_with_one_drop_in_the_same_days() -> None:
    network = generate(3, sites=20, weeks=34)
    alone = generate(3, sites=20, weeks=34, shared=0)

    single = [i for i in network.injected if i.group is None]
    assert single == alone.injected  # the single-site problems of the seed are kept
    groups: dict[str, list[Injected]] = {}
    for injected in network.injected:
        if injected.group is not None:
            groups.setdefault(injected.group, []).append(injected)
    assert len(groups) == 2
    hit_alone = {i.site for i in single}
    for sites in groups.values():
        assert 3 <= len(sites) <= 5
        assert len({(i.dimension, i.size, i.weeks, i.cause) for i in sites}) == 1
        onsets = [i.onset for i in sites]
        assert max(onsets) - min(onsets) <= timedelta(days=6)
        assert not {i.site for i in sites} & hit_alone
    every = [i.site for sites in groups.values() for i in sites]
    assert len(every) == len(set(every))


def test_scores_are_well_formed_and_import_matches_live() -> None:
    network = generate(5, sites=3, weeks=32)
    config = DetectionConfig()

    result = score([(network, *detect(network, config))])
    replay = asyncio.run(compare(network, config))

    assert result["site_weeks"] == 3 * (32 - 16)
    assert result["false_alarms"] <= result["opened"]
    assert replay["same_detected"]
    assert replay["same_resolved"]
    assert replay["same_stored"]
    assert replay["live_problem_events"] > 0
    assert replay["same_problems"]  # the problems too, not only the degradations


class _Pool:
    """Every comment negative, on the theme asked for (another one when none is)."""

    def draw(self, rng: np.random.Generator, theme: str | None) -> tuple[bool, tuple[str, ...]]:
        return True, (theme or "materials",)


def test_comments_follow_the_cause_and_leave_the_ratings_unchanged() -> None:
    plain = generate(5, sites=3, weeks=32)
    commented = generate(5, sites=3, weeks=32, comments=_Pool())

    def strip(counts: Mapping[str, int]) -> dict[str, int]:
        return {k: v for k, v in counts.items() if not k.startswith(("themes.", "negative_"))}

    for a, b in zip(plain.series, commented.series, strict=True):
        assert [strip(c) for c in a.weeks.values()] == [strip(c) for c in b.weeks.values()]
    network = next(s for s in commented.series if s.scope.level is ScopeLevel.NETWORK)
    total = Counter[str]()
    for counts in network.weeks.values():
        total.update(counts)
    assert total["negative_comments"] > 0
    causes = {i.cause for i in commented.injected}
    assert all(total[f"themes.{cause}"] > 0 for cause in causes)


def test_problems_are_scored_on_a_commented_network() -> None:
    network = generate(5, sites=6, weeks=34, comments=_Pool())

    opened, problems, site_weeks = detect_problems(network, DetectionConfig())
    result = score_problems([(network, opened, problems, site_weeks)])

    assert result["true_problems"] + result["false_problems"] == len(problems)
    assert result["problems_per_true_problem"] >= 1.0 or result["true_problems"] == 0
    assert 0 <= result["main_theme_right_at_opening"] <= 1


def _found(injected: Injected, name: str) -> Member:
    """A site degradation that names ``injected``, opened the week of its onset."""
    observation = Observation(
        value=4.0, sample_size=12, period=Period(start=injected.onset, end=injected.end)
    )
    return Member(
        degradation_id=name,
        scope=Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=injected.site),
        metric=Metric.MEAN_SATISFACTION,
        dimension=injected.dimension,
        opened_week=injected.onset,
        baseline=observation,
        current=observation,
        severity=Severity.HIGH,
        sites=(injected.site,),
    )


def _tracked(*members: Member) -> Tracked:
    problem = Problem(
        problem_id=members[0].degradation_id,
        network_id=NETWORK,
        opened_week=members[0].opened_week,
        members=members,
    )
    return Tracked(problem, {m.degradation_id: m for m in members})


def test_a_shared_problem_in_one_problem_counts_once_and_unrelated_drops_merged_count() -> None:
    network = generate(3, sites=20, weeks=34)
    shared = [i for i in network.injected if i.group == "shared-0"]
    single = [i for i in network.injected if i.group is None and i.kind == "rating"][:2]
    assert len(single) == 2
    found = {f"s{n}": _found(i, f"s{n}") for n, i in enumerate(shared)}
    problems = [
        _tracked(*list(found.values())[:-1]),  # all its sites but one in one problem
        _tracked(list(found.values())[-1]),  # the last one alone
        _tracked(_found(single[0], "a"), _found(single[1], "b")),  # two causes merged
    ]

    result = score_problems([(network, [], problems, 100)])

    assert result["false_merges"] == 1
    assert result["true_problems"] == 3
    assert result["shared"]["found_at_2_sites_or_more"] == 1
    assert result["shared"]["found_as_one_problem"] == 1
    assert result["shared"]["problems_per_shared_problem"] == 2.0
    assert result["shared"]["sites_found"] == len(shared)
