"""The detection benchmark's generator and scoring, on a small network (smoke and sanity)."""

from __future__ import annotations

import numpy as np
import pytest
from bench.analyzer.detection import run
from bench.analyzer.network import LEVELS, generate, tilted

from boucle_analyzer.domain.detection import DetectionConfig

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("mean", [1.5, 3.7, 4.1, 4.8])
def test_tilted_ratings_have_exactly_the_requested_mean(mean: float) -> None:
    probabilities = tilted(mean)

    assert float((probabilities * LEVELS).sum()) == pytest.approx(mean, abs=1e-9)
    assert float(probabilities.sum()) == pytest.approx(1.0)
    assert np.all(np.diff(probabilities) > 0) == (mean > 3)


def test_the_formation_dynamix_platform_drop_is_found_within_two_weeks() -> None:
    network = generate(7, sites=12, weeks=40, degraded_share=0.0, small_sites=0)

    result = run(network, DetectionConfig())

    assert result["degradations"] == 2  # the seed's case: platform ratings and complaints
    delays = result["formation_dynamix_delay_days"]
    assert isinstance(delays, list)
    assert delays
    assert delays[0] <= 14
    assert result["scope_weeks"] == 13 * (40 - 16)
