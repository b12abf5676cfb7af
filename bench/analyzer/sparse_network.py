"""A small-sample network as issue 13 measures it: 40 sites, 8-15 responses per site and week.

Each site has two trainers; each response goes to one of them and rates four dimensions on
1-5 (exponentially tilted ratings with exactly the intended mean, ``network.tilted``).
Complaints, hazards, enrolments and dropouts arrive as Poisson counts. Injected, on about a
third of the sites (none on a ``calm`` network), one of:

- ``rating``: a drop of 0.3, 0.5, 0.8 or 1.2 point on one dimension at the whole site;
- ``trainer``: a drop of 0.5, 0.8 or 1.2 point on the "trainer" dimension for one trainer;
- ``complaints``: a complaint wave (4 times the usual rate) at the site.

Onsets fall on any day of a week, from week 20 on; problems last 6 to 10 weeks. Then
``shared`` problems (2 by default) each hit 3 to 5 other sites at once (one cause, e.g. the
online platform failing): the same dimension and size at every site, onsets within 3 days of
each other, the same length; each site's drop is an ``Injected`` "rating" with the same
``group``. They are drawn from their own random stream, so with ``shared=0`` a seed gives the
networks it gave before they existed. The series hold the network, each site and each
trainer (as the aggregation does).

With a ``CommentPool`` (``bench.analyzer.problem_quality``), learners also write comments, as
the aggregates count them (``negative_comments``, ``themes.<theme>``): a few negative ones on
any theme every week, and during a drop more on its cause (``CAUSES``: the dropped
dimension's theme; a complaint wave's complaints are about administration). Each comment is
drawn from the labelled French set of ``comments_fr.jsonl`` by its gold theme and counted
with the classifier's verdict on it, so classification errors reach the problems' themes.
Comments use their own random stream: the ratings and counts stay those of the same seed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from bench.analyzer.network import DIMENSIONS, LEVELS, NETWORK, START, tilted
from boucle_analyzer.domain.detection import ScopeSeries
from boucle_analyzer.domain.ratings import MILLI
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric

RATING_SIZES = (0.3, 0.5, 0.8, 1.2)
TRAINER_SIZES = (0.5, 0.8, 1.2)
COMPLAINT_RATE = 0.25  # complaints per site and week
HAZARD_RATE = 0.05
WAVE = 4.0
BACKGROUND_COMMENTS = 0.06  # negative comments per response, any theme, every week
CAUSE_COMMENTS = 0.3  # per response hit by a drop (times its share of the week), on its cause
CAUSES = {"overall": "organisation", "platform": "platform", "trainer": "trainer"}
CAUSES |= {"content": "content", "complaints": "administration"}
SHARED_SIZES = (0.5, 0.8, 1.2)
SHARED_SITES = (3, 5)  # sites hit by one shared cause, at least and at most
SHARED_JITTER_DAYS = 3  # onsets at the sites of a shared problem within this of each other


class CommentPool(Protocol):
    """Labelled comments to draw from, each with the classifier's verdict."""

    def draw(self, rng: np.random.Generator, theme: str | None) -> tuple[bool, tuple[str, ...]]:
        """A negative comment of gold ``theme`` (any theme when None): the classifier's
        (negative, themes) on it."""
        ...


@dataclass(frozen=True)
class Injected:
    site: str
    kind: str  # "rating", "trainer" or "complaints"
    dimension: str | None
    size: float  # rating points, or the factor applied to the complaint rate
    onset: datetime
    weeks: int
    trainer: str | None = None
    group: str | None = None  # a shared problem's id: the sites one cause hits at once

    @property
    def key(self) -> str:
        """What tells injected causes apart: the shared problem, else the site's drop."""
        return self.group or f"{self.site}|{self.kind}|{self.onset.isoformat()}"

    @property
    def cause(self) -> str:
        """The theme the learners name: the dropped dimension's, administration for a wave."""
        return CAUSES[self.dimension or self.kind]

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


def matches(injected: Injected, found: Any, network: SparseNetwork) -> bool:
    """Whether a degradation (or a problem's member) names the injected problem."""
    scope = found.scope
    trainers = (injected.trainer,) if injected.trainer else network.trainers[injected.site]
    at_site = scope.level is ScopeLevel.SITE and scope.site_id == injected.site
    at_trainer = scope.level is ScopeLevel.TRAINER and scope.trainer_id in trainers
    if not (at_site or at_trainer):
        return False
    if injected.kind == "complaints":
        return found.metric is Metric.COMPLAINT_RATE and found.dimension is None
    if found.metric is Metric.MEAN_SATISFACTION:
        return bool(found.dimension == injected.dimension)
    return found.metric is Metric.SATISFACTION_RATE and injected.dimension == "overall"


def generate(
    seed: int,
    *,
    sites: int = 40,
    weeks: int = 52,
    calm: bool = False,
    comments: CommentPool | None = None,
    shared: int = 2,
) -> SparseNetwork:
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
        if shared:
            _share(np.random.default_rng(seed + 2_000_000), network, shared)
    network.series = _simulate(rng, network, base)
    if comments is not None:
        _comment(np.random.default_rng(seed + 1_000_000), network, comments)
    return network


def _share(rng: np.random.Generator, network: SparseNetwork, count: int) -> None:
    """``count`` shared problems, each at 3-5 sites no other problem touches."""
    free = [s for s in network.sites if all(i.site != s for i in network.injected)]
    for number in range(count):
        size = int(rng.integers(SHARED_SITES[0], SHARED_SITES[1] + 1))
        if len(free) < size:
            return
        chosen = [free[int(i)] for i in rng.choice(len(free), size=size, replace=False)]
        free = [s for s in free if s not in chosen]
        dimension = str(rng.choice(DIMENSIONS))
        drop = float(rng.choice(SHARED_SIZES))
        week = int(rng.integers(min(20, network.weeks - 12), network.weeks - 10))
        centre = START + timedelta(weeks=week, days=int(rng.integers(7)))
        length = int(rng.integers(6, 11))
        for site in chosen:
            jitter = timedelta(days=int(rng.integers(-SHARED_JITTER_DAYS, SHARED_JITTER_DAYS + 1)))
            onset = centre + jitter
            group = f"shared-{number}"
            network.injected.append(
                Injected(site, "rating", dimension, drop, onset, length, group=group)
            )


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


def _comment(rng: np.random.Generator, network: SparseNetwork, pool: CommentPool) -> None:
    """Adds the comment counters to every trainer's weeks, then to its site and the network."""
    trainer_of = {t: site for site, pair in network.trainers.items() for t in pair}
    added: dict[tuple[str, datetime], Counter[str]] = {}
    for series in network.series:
        trainer = series.scope.trainer_id
        if series.scope.level is not ScopeLevel.TRAINER or trainer is None:
            continue
        site = trainer_of[trainer]
        for week, counts in series.weeks.items():
            responses = counts.get("responses", 0)
            drawn: list[str | None] = [None] * int(rng.binomial(responses, BACKGROUND_COMMENTS))
            for injected in network.injected:
                share = injected.share_of(week)
                if injected.site != site or share == 0:
                    continue
                if injected.kind == "complaints":
                    # the wave's share of the complaints: (rate - usual) / rate
                    excess = (injected.size - 1) * share / (1 + (injected.size - 1) * share)
                    drawn += [injected.cause] * int(
                        rng.binomial(counts.get("complaints", 0), excess)
                    )
                elif injected.kind == "rating" or injected.trainer == trainer:
                    hit = int(rng.binomial(responses, min(1.0, CAUSE_COMMENTS * share)))
                    drawn += [injected.cause] * hit
            comments: Counter[str] = Counter()
            for theme in drawn:
                negative, themes = pool.draw(rng, theme)
                if negative:
                    comments["negative_comments"] += 1
                    comments.update(f"themes.{t}" for t in themes)
            if comments:
                added[(trainer, week)] = comments
    _spread(network, added, trainer_of)


def _spread(
    network: SparseNetwork,
    added: dict[tuple[str, datetime], Counter[str]],
    trainer_of: dict[str, str],
) -> None:
    """Each trainer's comment counters, also at its site and at the network."""
    by_scope: dict[str, Counter[str]] = {}
    for (trainer, week), comments in added.items():
        for key in (f"t|{trainer}", f"s|{trainer_of[trainer]}", "n|"):
            by_scope.setdefault(f"{key}|{week.isoformat()}", Counter()).update(comments)
    for series in network.series:
        scope = series.scope
        key = {
            ScopeLevel.TRAINER: f"t|{scope.trainer_id}",
            ScopeLevel.SITE: f"s|{scope.site_id}",
            ScopeLevel.NETWORK: "n|",
        }[scope.level]
        for week, counts in series.weeks.items():
            extra = by_scope.get(f"{key}|{week.isoformat()}")
            if extra and isinstance(counts, Counter):
                counts.update(extra)
