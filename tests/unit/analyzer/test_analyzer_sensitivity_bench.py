"""The small-sample detection benchmark: generator, scoring, live vs import (smoke)."""

from __future__ import annotations

import asyncio

import pytest
from bench.analyzer.replay import compare
from bench.analyzer.sensitivity import detect, score
from bench.analyzer.sparse_network import generate

from boucle_analyzer.domain.detection import DetectionConfig
from boucle_contracts.scope import ScopeLevel

pytestmark = pytest.mark.unit


def test_the_generator_builds_sites_trainers_and_the_network_with_8_to_15_responses() -> None:
    network = generate(3, sites=6, weeks=34)

    levels = [s.scope.level for s in network.series]
    assert levels.count(ScopeLevel.SITE) == 6
    assert levels.count(ScopeLevel.TRAINER) == 12
    assert levels.count(ScopeLevel.NETWORK) == 1
    assert all(8 <= volume <= 15 for volume in network.sites.values())
    assert len(network.injected) == 2
    assert generate(3, sites=6, weeks=34, calm=True).injected == []


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
