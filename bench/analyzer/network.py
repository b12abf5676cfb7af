"""A synthetic training network with degradations of known size, scope and start.

Each site gets, every week, survey responses rating four dimensions on 1-5, enrolments,
complaints and dropouts. Ratings follow an exponentially tilted distribution on {1..5}
whose mean is exactly the site's mean for that dimension, so a "drop of 0.4 point" is a
drop of 0.4 in the expected rating. A degradation starts on a given day (often mid-week:
the onset week is only partly degraded) and lasts a number of weeks.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from boucle_analyzer.domain.aggregation import DimensionDelta, dimension_paths
from boucle_analyzer.domain.detection import ScopeSeries
from boucle_analyzer.domain.ratings import MILLI
from boucle_contracts.scope import Scope, ScopeLevel

NETWORK = "bench-net"
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
DIMENSIONS = ("overall", "platform", "trainer", "content")
LEVELS = np.arange(1, 6)


def tilted(mean: float) -> np.ndarray:
    """Probabilities on 1..5 proportional to exp(θ·r), with θ solved for the mean."""
    low, high = -20.0, 20.0
    for _ in range(80):
        theta = (low + high) / 2
        weights = np.exp(theta * LEVELS)
        if float((weights * LEVELS).sum() / weights.sum()) < mean:
            low = theta
        else:
            high = theta
    weights = np.exp(theta * LEVELS)
    probabilities: np.ndarray = weights / weights.sum()
    return probabilities


@dataclass(frozen=True)
class Degradation:
    """What the generator injects, to be found again."""

    site: str
    kind: str  # "rating" (a dimension's mean drops), "complaints" or "dropouts"
    dimension: str | None
    size: float  # rating points, or the factor applied to the rate
    onset: datetime
    weeks: int
    label: str = ""

    @property
    def end(self) -> datetime:
        return self.onset + timedelta(weeks=self.weeks)

    def share_of(self, week: datetime) -> float:
        """Fraction of the week [week, week + 7 d) inside the degradation."""
        start, stop = max(week, self.onset), min(week + timedelta(days=7), self.end)
        return max(0.0, (stop - start) / timedelta(days=7))


@dataclass
class Network:
    weeks: int
    sites: dict[str, float]  # weekly mean responses
    degradations: list[Degradation] = field(default_factory=list)
    series: list[ScopeSeries] = field(default_factory=list)

    @property
    def week_starts(self) -> list[datetime]:
        return [START + timedelta(weeks=w) for w in range(self.weeks)]


def _ratings(rng: np.random.Generator, mean: float, n: int) -> DimensionDelta:
    values = rng.choice(LEVELS, size=n, p=tilted(mean)) if n else np.zeros(0, dtype=int)
    milli = [int(v) * MILLI for v in values]
    return DimensionDelta(
        count=n,
        total_milli=sum(milli),
        squares_micro=sum(m * m for m in milli),
        satisfied=int((values >= 4).sum()),
    )


def generate(
    seed: int,
    *,
    sites: int = 80,
    weeks: int = 52,
    degraded_share: float = 0.3,
    small_sites: int = 10,
) -> Network:
    """A network: ``sites`` sites with 30-60 responses a week, ``small_sites`` with 5-20."""
    rng = np.random.default_rng(seed)
    volumes = {f"site-{i:03d}": float(rng.uniform(30, 60)) for i in range(sites)}
    volumes |= {f"small-{i:02d}": float(rng.uniform(5, 20)) for i in range(small_sites)}
    network = Network(weeks=weeks, sites=volumes)
    base = {s: {d: float(rng.uniform(3.8, 4.4)) for d in DIMENSIONS} for s in volumes}
    first, last = 20, weeks - 12
    names = list(volumes)
    chosen = rng.choice(sites, size=int(sites * degraded_share), replace=False)
    for index in chosen:
        onset = START + timedelta(weeks=int(rng.integers(first, last)), days=int(rng.integers(7)))
        kind = str(rng.choice(["rating", "rating", "rating", "complaints", "dropouts"]))
        if kind == "rating":
            dimension = str(rng.choice(DIMENSIONS))
            size = float(rng.choice([0.4, 0.5, 0.7, 1.0]))
        else:
            factors = [3.0, 5.0] if kind == "complaints" else [2.0, 3.0]
            dimension, size = None, float(rng.choice(factors))
        weeks_long = int(rng.integers(6, 11))
        network.degradations.append(
            Degradation(names[int(index)], kind, dimension, size, onset, weeks_long)
        )
    # The seed's case: Formation Dynamix, a site whose online platform access breaks down.
    dynamix = next(n for n in names if n not in {d.site for d in network.degradations})
    dynamix_onset = START + timedelta(weeks=30, days=2)
    network.degradations += [
        Degradation(dynamix, "rating", "platform", 1.2, dynamix_onset, 8, "formation_dynamix"),
        Degradation(dynamix, "complaints", None, 3.0, dynamix_onset, 8, "formation_dynamix"),
    ]
    network.series = _simulate(rng, network, base)
    return network


def _simulate(
    rng: np.random.Generator, network: Network, base: dict[str, dict[str, float]]
) -> list[ScopeSeries]:
    by_site: dict[str, dict[datetime, Counter[str]]] = {s: {} for s in network.sites}
    totals: dict[datetime, Counter[str]] = {}
    for week in network.week_starts:
        for site, volume in network.sites.items():
            effects = [(d, d.share_of(week)) for d in network.degradations if d.site == site]
            counts: Counter[str] = Counter()
            n = int(rng.poisson(volume))
            counts["responses"] = n
            for dimension in DIMENSIONS:
                mean = base[site][dimension]
                for degradation, share in effects:
                    if degradation.kind == "rating" and degradation.dimension == dimension:
                        mean -= degradation.size * share
                counts.update(dimension_paths(f"dims.{dimension}.", _ratings(rng, mean, n)))
            enrolments = int(rng.poisson(volume * 1.2))
            complaint_rate, dropout_rate = 0.01, 0.05
            for degradation, share in effects:
                factor = 1 + (degradation.size - 1) * share
                if degradation.kind == "complaints":
                    complaint_rate *= factor
                if degradation.kind == "dropouts":
                    dropout_rate *= factor
            counts["enrolments"] = enrolments
            counts["complaints"] = int(rng.poisson(enrolments * complaint_rate))
            counts["dropouts"] = int(rng.poisson(enrolments * dropout_rate))
            by_site[site][week] = +counts
            totals.setdefault(week, Counter()).update(counts)
    series = [ScopeSeries(Scope(level=ScopeLevel.NETWORK, network_id=NETWORK), dict(totals))]
    series += [
        ScopeSeries(Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=site), weeks)
        for site, weeks in by_site.items()
    ]
    return series


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan
