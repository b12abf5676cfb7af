"""The service's detection runner on a generated network: live ingestion vs historical import.

Live: each week's data arrives during the week; the runner runs on the Thursday after it and
again two hours later (periodic runs). Import: the whole year arrives at once, then the
runner runs until it has caught up. Event time must make both publish the same degradation
events (ids and data-time dates), leave the same degradations in the store, and group them
into the same problems (the service's problem runner: same problem events, ids, kinds,
data-time dates and degradations).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from bench.analyzer.network import NETWORK
from bench.analyzer.sparse_network import SparseNetwork
from boucle_analyzer.adapters.memory import InMemoryCommentStore, InMemoryDegradationStore
from boucle_analyzer.adapters.memory_problems import InMemoryProblemStore
from boucle_analyzer.detection_runner import DetectionRunner
from boucle_analyzer.domain.detection import WEEK, DetectionConfig, ScopeSeries
from boucle_analyzer.domain.figures import snapshot_from
from boucle_analyzer.domain.ports import FigureQuery
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.problem_runner import ProblemRunner
from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import Granularity, ScopeMetricsUpdated
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1

DAY = timedelta(days=1)


class ArrivingFigures:
    """A generated network's figures as far as its data has arrived (weeks before ``until``).

    Revisions count the events of a week, as the aggregate store's do (one per update)."""

    def __init__(self, network: SparseNetwork) -> None:
        self._series = network.series
        self.until = network.week_starts[0]

    def _visible(self, weeks: dict[datetime, Any], since: datetime) -> dict[datetime, Any]:
        return {w: c for w, c in weeks.items() if since <= w < self.until}

    async def networks(self) -> list[str]:
        return [NETWORK]

    async def weekly_series(self, *, network_id: str, since: datetime) -> list[ScopeSeries]:
        return [ScopeSeries(s.scope, self._visible(dict(s.weeks), since)) for s in self._series]

    async def figures(self, *, query: FigureQuery) -> list[ScopeMetricsUpdated]:
        network = next(s for s in self._series if s.scope.level is ScopeLevel.NETWORK)
        weeks = self._visible(dict(network.weeks), query.start or datetime.min.replace(tzinfo=UTC))
        if not weeks:
            return []
        if query.granularity is Granularity.DAY:  # the data runs to the Sunday of the last week
            last = self.until - DAY
            periods = [(Period(start=last, end=self.until), weeks[max(weeks)])]
        else:
            periods = [(Period(start=w, end=w + WEEK), c) for w, c in sorted(weeks.items())]
        return [
            snapshot_from(
                scope=network.scope,
                granularity=query.granularity,
                period=period,
                counts=counts,
                revision=sum(v for k, v in counts.items() if k in ("responses", "complaints")),
                last_event_id="bench",
            )
            for period, counts in periods
        ]


class Sink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


async def _run(runner: DetectionRunner) -> None:
    while await runner.run_once():
        pass


async def replay(network: SparseNetwork, config: DetectionConfig, *, live: bool) -> dict[str, Any]:
    figures = ArrivingFigures(network)
    store, sink, problems = InMemoryDegradationStore(), Sink(), InMemoryProblemStore()
    comments = InMemoryCommentStore()

    def runner(now: datetime) -> DetectionRunner:
        return DetectionRunner(
            figures=figures,
            degradations=store,
            comments=comments,
            publisher=sink,
            metrics=AnalyzerMetrics(CollectorRegistry()),
            config=config,
            max_weeks_per_run=8,
            clock=lambda: now,
            problems=ProblemRunner(problems=problems, comments=comments, publisher=sink),
        )

    arrivals = network.week_starts if live else network.week_starts[-1:]
    for week in arrivals:
        figures.until = week + WEEK
        for now in (figures.until + 3 * DAY, figures.until + 3 * DAY + timedelta(hours=2)):
            await _run(runner(now))
    detected = sorted(
        (e.data.degradation_id, e.data.detected_at.isoformat())
        for e in sink.events
        if isinstance(e, DegradationDetectedV1)
    )
    resolved = sorted(
        (e.data.degradation_id, e.data.resolved_at.isoformat())
        for e in sink.events
        if isinstance(e, DegradationResolvedV1)
    )
    stored = sorted(
        (d.degradation_id, str(d.resolved_week))
        for d in await store.degradations(network_id=NETWORK, open_only=False)
    )
    problem_events = [
        (
            e.type,
            e.data.problem_id,
            e.id,
            e.time.isoformat(),
            tuple(sorted(e.data.degradation_ids)),
        )
        for e in sink.events
        if isinstance(e, ProblemOpenedV1 | ProblemUpdatedV1 | ProblemResolvedV1)
    ]
    return {
        "detected": detected,
        "resolved": resolved,
        "stored": stored,
        "problems": sorted(problem_events),
    }


async def compare(network: SparseNetwork, config: DetectionConfig) -> dict[str, Any]:
    live = await replay(network, config, live=True)
    imported = await replay(network, config, live=False)
    return {
        "live_detected": len(live["detected"]),
        "import_detected": len(imported["detected"]),
        "same_detected": live["detected"] == imported["detected"],
        "same_resolved": live["resolved"] == imported["resolved"],
        "same_stored": live["stored"] == imported["stored"],
        "live_problem_events": len(live["problems"]),
        "same_problems": live["problems"] == imported["problems"],
    }
