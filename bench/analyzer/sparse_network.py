"""A small-sample network as issue 13 measures it: 40 sites, 8-15 responses per site and week.

Each site has two trainers; each response goes to one of them and rates four dimensions on
1-5 (exponentially tilted ratings with exactly the intended mean, ``network.tilted``).
Complaints, hazards, enrolments and dropouts arrive as Poisson counts. Injected, on about a
third of the sites (none on a ``calm`` network), one of:

- ``rating``: a drop of 0.3, 0.5, 0.8 or 1.2 point on one dimension at the whole site;
- ``trainer``: a drop of 0.5, 0.8 or 1.2 point on the "trainer" dimension for one trainer;
- ``complaints``: a complaint wave (4 times the usual rate) at the site.

Onsets fall on any day of a week, from week 20 on; problems last 6 to 10 weeks. The series
hold the network, each site and each trainer (as the aggregation does).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from bench.analyzer.network import DIMENSIONS, LEVELS, NETWORK, START, tilted
from boucle_analyzer.domain.detection import ScopeSeries
from boucle_analyzer.domain.ratings import MILLI
from boucle_contracts.scope import Scope, ScopeLevel

RATING_SIZES = (0.3, 0.5, 0.8, 1.2)
TRAINER_SIZES = (0.5, 0.8, 1.2)
COMPLAINT_RATE = 0.25  # complaints per site and week
HAZARD_RATE = 0.05
WAVE = 4.0


@dataclass(frozen=True)
class Injected:
    site: str
    kind: str  # "rating", "trainer" or "complaints"
    dimension: str | None
    size: float  # rating points, or the factor applied to the complaint rate
    onset: datetime
    weeks: int
    trainer: str | None = None

    @property
    def end(self) -> datetime:
        return self.onset + timedelta(weeks=self.weeks)

    def share_of(self, week: datetime) -> float:
        start, stop = max(week, self.onset), min(week + timedelta(days=7), self.end)
        return max(0.0, (stop - start) / timedelta(days=7))


@dataclass
class SparseNetwork:
    weeks: int
    sites: dict[str, float]  # weekly mean responses
    trainers: dict[str, tuple[str, str]]  # site -> its two trainers
    injected: list[Injected] = field(default_factory=list)
    series: list[ScopeSeries] = field(default_factory=list)

    @property
    def week_starts(self) -> list[datetime]:
        return [START + timedelta(weeks=w) for w in range(self.weeks)]


def generate(seed: int, *, sites: int = 40, weeks: int = 52, calm: bool = False) -> SparseNetwork:
    rng = np.random.default_rng(seed)
    volumes = {f"site-{i:03d}": float(rng.uniform(8, 15)) for i in range(sites)}
    trainers = {s: (f"{s}-t1", f"{s}-t2") for s in volumes}
    network = SparseNetwork(weeks=weeks, sites=volumes, trainers=trainers)
    base = {s: {d: float(rng.uniform(3.8, 4.4)) for d in DIMENSIONS} for s in volumes}
    if not calm:
        names = list(volumes)
        for index in rng.choice(sites, size=sites // 3, replace=False):
            site = names[int(index)]
            onset = START + timedelta(
                weeks=int(rng.integers(min(20, weeks - 12), weeks - 10)), days=int(rng.integers(7))
            )
            length = int(rng.integers(6, 11))
            kind = str(rng.choice(["rating", "rating", "trainer", "complaints"]))
            if kind == "rating":
                dimension = str(rng.choice(DIMENSIONS))
                size = float(rng.choice(RATING_SIZES))
                injected = Injected(site, kind, dimension, size, onset, length)
            elif kind == "trainer":
                size = float(rng.choice(TRAINER_SIZES))
                trainer = trainers[site][int(rng.integers(2))]
                injected = Injected(site, kind, "trainer", size, onset, length, trainer)
            else:
                injected = Injected(site, kind, None, WAVE, onset, length)
            network.injected.append(injected)
    network.series = _simulate(rng, network, base)
    return network


@lru_cache(maxsize=4096)
def _tilted(mean: float) -> np.ndarray:
    return tilted(mean)


def _ratings(rng: np.random.Generator, mean: float, n: int) -> Counter[str]:
    """Sums of n ratings of the given mean, as the aggregates keep them (one dimension)."""
    counts = rng.multinomial(n, _tilted(round(mean, 4))) if n else np.zeros(5, dtype=int)
    total = int((counts * LEVELS).sum())
    squares = int((counts * LEVELS * LEVELS).sum())
    return Counter(
        {
            "count": n,
            "total_milli": total * MILLI,
            "squares_micro": squares * MILLI * MILLI,
            "satisfied": int(counts[3:].sum()),
        }
    )


def _simulate(
    rng: np.random.Generator, network: SparseNetwork, base: dict[str, dict[str, float]]
) -> list[ScopeSeries]:
    by_scope: dict[Scope, dict[datetime, Counter[str]]] = {}
    network_scope = Scope(level=ScopeLevel.NETWORK, network_id=NETWORK)
    for week in network.week_starts:
        total: Counter[str] = Counter()
        for site, volume in network.sites.items():
            effects = [(i, i.share_of(week)) for i in network.injected if i.site == site]
            site_counts: Counter[str] = Counter()
            n = int(rng.poisson(volume))
            split = int(rng.binomial(n, 0.5))
            for trainer, responses in zip(network.trainers[site], (split, n - split), strict=True):
                counts: Counter[str] = Counter({"responses": responses})
                for dimension in DIMENSIONS:
                    mean = base[site][dimension]
                    for injected, share in effects:
                        hits = injected.kind == "rating" or injected.trainer == trainer
                        if injected.dimension == dimension and hits:
                            mean -= injected.size * share
                    for path, value in _ratings(rng, mean, responses).items():
                        counts[f"dims.{dimension}.{path}"] = value
                complaint_rate = COMPLAINT_RATE / 2
                for injected, share in effects:
                    if injected.kind == "complaints":
                        complaint_rate *= 1 + (injected.size - 1) * share
                enrolments = int(rng.poisson(volume * 0.6))
                counts["enrolments"] = enrolments
                counts["complaints"] = int(rng.poisson(complaint_rate))
                counts["hazards"] = int(rng.poisson(HAZARD_RATE / 2))
                counts["dropouts"] = int(rng.poisson(enrolments * 0.05))
                counts = +counts
                scope = Scope(level=ScopeLevel.TRAINER, network_id=NETWORK, trainer_id=trainer)
                by_scope.setdefault(scope, {})[week] = counts
                site_counts.update(counts)
            scope = Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=site)
            by_scope.setdefault(scope, {})[week] = site_counts
            total.update(site_counts)
        by_scope.setdefault(network_scope, {})[week] = total
    return [ScopeSeries(scope, weeks) for scope, weeks in by_scope.items()]
