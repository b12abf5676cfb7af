"""Degradation events out: completed weeks are tested and degradations opened or closed.

The statistics are the domain's (``domain.detection``, ``domain.theme_shares``); this module
reads the weekly figures, keeps each network's cursor and open degradations, and turns each
transition into a ``degradation_detected`` or ``degradation_resolved`` event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from boucle_analyzer.domain import detection, schedule
from boucle_analyzer.domain.detection import (
    WEEK,
    Degradation,
    DetectionConfig,
    Finding,
    ScopeSeries,
    advance,
    evaluate,
    finite,
    window_counts,
)
from boucle_analyzer.domain.ports import (
    HAZARD_SOURCE,
    CommentStore,
    DegradationStore,
    FigureQuery,
    FigureReader,
)
from boucle_analyzer.domain.statistics import TestResult
from boucle_analyzer.domain.theme_shares import example_comment_ids, theme_shares
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_analyzer.problem_runner import ProblemRunner
from boucle_contracts.metrics.v1 import Granularity
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import (
    DegradationDetected,
    DegradationDetectedV1,
    DegradationResolved,
    DegradationResolvedV1,
    StatisticalTest,
)
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)
# Degradation event ids are uuid5s in this namespace: a re-run re-publishes the same ids,
# which consumers deduplicate, as long as it never changes.
DEGRADATION_EVENT_ID_NAMESPACE = uuid.UUID("7c1e4a52-3f0d-5b6e-a9c8-2d4f6b8e0a13")
REVISIONS_READ = 10_000  # weekly aggregates of a network read to spot late data (~190 years)
EXAMPLE_CANDIDATES = 50  # negative comments of the window read to choose the examples from


class DetectionRunner:
    """Evaluates each network's completed weeks in order and publishes degradation transitions.

    A per-network cursor (the last week evaluated) lives in the degradation store. For each
    week: findings, then transitions against the open degradations; events are published
    first (ids derive from the degradation id, itself from scope, metric, dimension and
    opening week), then degradations are saved, then the cursor moves. A crash anywhere
    re-runs the same week and re-publishes the same ids, which consumers deduplicate.
    """

    def __init__(
        self,
        *,
        figures: FigureReader,
        degradations: DegradationStore,
        comments: CommentStore,
        publisher: EventSink,
        metrics: AnalyzerMetrics,
        config: DetectionConfig,
        max_weeks_per_run: int = 8,
        grace: timedelta = timedelta(hours=48),
        quiet: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        problems: ProblemRunner | None = None,
    ) -> None:
        self._figures = figures
        self._degradations = degradations
        self._comments = comments
        self._publisher = publisher
        self._metrics = metrics
        self._config = config
        self._max_weeks = max_weeks_per_run
        self._grace = grace
        self._quiet = quiet
        self._clock = clock
        self._problems = problems  # groups each week's transitions into problems

    @property
    def _span(self) -> timedelta:
        config = self._config
        return (
            max(
                max(config.windows) + config.baseline_weeks,
                config.lookback_weeks + config.sequential_baseline_weeks,
            )
            * WEEK
        )

    async def run_once(self) -> bool:
        """One round over every network; True when some network has weeks left to catch up."""
        behind = False
        for network_id in await self._figures.networks():
            try:
                behind |= await self._network(network_id)
            except Exception as exc:  # one network's failure must not stop the others
                log.warning("detection_failed", network_id=network_id, error=repr(exc))
        self._metrics.degradations_open.set(await self._degradations.count_open())
        return behind

    def loop(self, interval_seconds: float) -> BackgroundLoop:
        """Run at start, then every ``interval_seconds``; a network behind goes on at once."""
        return every(interval_seconds, self.run_once, name="degradation_detection", at_start=True)

    async def _due(self, network_id: str) -> tuple[schedule.Plan, dict[datetime, int]]:
        """The weeks to evaluate, in event time (``domain.schedule``), and the revisions of the
        network's weekly aggregates they were planned on."""
        weekly = await self._figures.figures(
            query=FigureQuery(
                network_id=network_id,
                granularity=Granularity.WEEK,
                level=ScopeLevel.NETWORK,
                limit=REVISIONS_READ,
            )
        )
        revisions = {f.period.start: f.revision for f in weekly}
        latest_event = None
        if revisions:
            # Days with data in the latest week: the latest one says how far the data goes
            # (to the day: aggregates keep no finer event time).
            days = await self._figures.figures(
                query=FigureQuery(
                    network_id=network_id,
                    granularity=Granularity.DAY,
                    level=ScopeLevel.NETWORK,
                    start=max(revisions),
                )
            )
            latest_event = max((d.period.end for d in days), default=max(revisions) + WEEK)
        progress = await self._degradations.progress(network_id=network_id)
        plan = schedule.plan(
            revisions=revisions,
            latest_event=latest_event,
            progress=progress,
            now=self._clock(),
            grace=self._grace,
            quiet=self._quiet,
            warmup_weeks=max(self._config.windows),
            limit=self._max_weeks,
        )
        return plan, revisions

    async def _rewind(self, network_id: str, week: datetime, progress: schedule.Progress) -> None:
        """Late data for ``week``: the open degradations as they stood before it come back,
        those opened since are taken out (``retracted``) until the re-run says again."""
        before = await self._degradations.restore(network_id=network_id, week=week - WEEK)
        since = [
            d
            for d in await self._degradations.degradations(network_id=network_id, open_only=False)
            if d.opened_week >= week
        ]
        await self._degradations.remove(
            network_id=network_id, degradation_ids=[d.degradation_id for d in since]
        )
        if before:
            await self._degradations.save(network_id=network_id, degradations=before)
        retracted = {d.degradation_id: d for d in (*progress.retracted, *since)}
        await self._degradations.set_progress(
            network_id=network_id,
            progress=replace(progress, retracted=tuple(retracted.values())),
        )
        log.info("detection_rewound", network_id=network_id, week=week.date().isoformat())

    @staticmethod
    def _retracted(
        week: datetime, opened: set[str], progress: schedule.Progress
    ) -> tuple[list[Degradation], schedule.Progress]:
        """Degradations the re-run has passed without opening them again (to resolve), and
        the progress with only those still ahead of it."""
        gone = [
            d
            for d in progress.retracted
            if d.opened_week <= week and d.degradation_id not in opened and d.open
        ]
        kept = tuple(d for d in progress.retracted if d.opened_week > week)
        return gone, replace(progress, retracted=kept)

    async def _network(self, network_id: str) -> bool:
        plan, revisions = await self._due(network_id)
        progress = plan.progress
        if plan.rewind_to is not None:
            await self._rewind(network_id, plan.rewind_to, progress)
            progress = await self._degradations.progress(network_id=network_id)
        await self._degradations.set_progress(network_id=network_id, progress=progress)
        due = plan.due
        if not due:
            return False
        series = await self._figures.weekly_series(
            network_id=network_id, since=due[0] + WEEK - self._span
        )
        open_degradations = await self._degradations.open_degradations(network_id=network_id)
        for week in due[: self._max_weeks]:
            findings = evaluate(series, week, self._config)
            transitions = advance(open_degradations, findings, week, self._config)
            by_key = {s.scope.key(): s for s in series}
            detected: list[DegradationDetectedV1] = []
            for degradation, finding in transitions.opened:
                event = await self._detected(degradation, finding, by_key[finding.scope.key()])
                await self._publisher.publish(event)
                detected.append(event)
                self._metrics.degradations.labels("detected", degradation.metric.value).inc()
                log.info("degradation_detected", degradation_id=degradation.degradation_id)
            for degradation in transitions.resolved:
                await self._publisher.publish(_resolved(degradation, week + WEEK))
                self._metrics.degradations.labels("resolved", degradation.metric.value).inc()
                log.info("degradation_resolved", degradation_id=degradation.degradation_id)
            opened = {d.degradation_id for d, _ in transitions.opened}
            retracted, progress = self._retracted(week, opened, progress)
            for degradation in retracted:  # late data no longer supports it
                await self._publisher.publish(_resolved(degradation, week + WEEK))
                log.info("degradation_retracted", degradation_id=degradation.degradation_id)
            if self._problems is not None:  # after the week's degradation events, before saving
                # a retracted degradation leaves its problem like a resolved one, in the same
                # call: one problem event per problem and week
                await self._problems.after_week(
                    network_id=network_id,
                    week=week,
                    detected=detected,
                    resolved=[*transitions.resolved, *retracted],
                )
            await self._degradations.save(network_id=network_id, degradations=transitions.changed)
            open_degradations = transitions.still_open(open_degradations)
            await self._degradations.checkpoint(
                network_id=network_id, week=week, open_degradations=list(open_degradations.values())
            )
            progress = replace(
                progress,
                through=week,
                evaluated={w: r for w, r in revisions.items() if w <= week},
            )
            await self._degradations.set_progress(network_id=network_id, progress=progress)
            self._metrics.weeks_evaluated.inc()
        return len(due) > self._max_weeks

    async def _detected(
        self, degradation: Degradation, finding: Finding, series: ScopeSeries
    ) -> DegradationDetectedV1:
        period = finding.current.period
        candidates = await self._comments.examples(
            network_id=series.scope.network_id,
            scope_key=series.scope.key(),
            start=period.start,
            end=period.end,
            limit=EXAMPLE_CANDIDATES,
        )
        candidates = [c for c in candidates if c.source != HAZARD_SOURCE]  # not a comment
        detected_at = period.end
        return DegradationDetectedV1.create(
            data=DegradationDetected(
                degradation_id=degradation.degradation_id,
                scope=_event_scope(degradation),
                metric=finding.metric,
                dimension=finding.dimension,
                detected_at=detected_at,
                baseline=finding.baseline,
                current=finding.current,
                tests=_tests(finding),
                severity=detection.severity(finding.metric, finding.effect, self._config),
                themes=theme_shares(window_counts(series.weeks, period.start, period.end)),
                example_comment_ids=example_comment_ids(candidates, finding.dimension),
            ),
            **_envelope(degradation, "detected", detected_at),
        )


def _statistical(
    test: TestResult, comparison: Literal["own_baseline", "network_peers"], adjusted: float | None
) -> StatisticalTest:
    return StatisticalTest(
        name=test.name,
        statistic=finite(test.statistic),
        p_value=test.p_value,
        adjusted_p_value=None if adjusted is None else min(1.0, adjusted),
        correction=None if adjusted is None else "benjamini_hochberg",
        comparison=comparison,
    )


def _tests(finding: Finding) -> tuple[StatisticalTest, ...]:
    """The window test (own baseline, BH-adjusted), the 4-5 share and the peers as evidence,
    then the sequential test that decided."""
    tests = []
    if finding.own.test.name != "none":  # too few ratings for a window: the CUSUM alone
        tests.append(_statistical(finding.own.test, "own_baseline", finding.own.adjusted_p_value))
    if finding.share is not None:
        tests.append(_statistical(finding.share, "own_baseline", None))
    if finding.peers is not None:
        tests.append(
            _statistical(finding.peers.test, "network_peers", finding.peers.adjusted_p_value)
        )
    if finding.sequential is not None:  # the decision: the CUSUM reached its threshold h
        test = finding.sequential
        tests.append(
            StatisticalTest(
                name=test.name,
                statistic=finite(test.statistic),
                p_value=test.p_value,  # Ville's bound e^-S; false alarms: h, by simulation
                correction="threshold_calibrated_by_simulation",
                comparison="own_baseline",
            )
        )
    return tuple(tests)


def _event_scope(degradation: Degradation) -> Scope:
    """The scope a degradation event names: the degradation's, narrowed to its dimension."""
    if degradation.dimension is None:
        return degradation.scope
    return degradation.scope.model_copy(update={"dimension": degradation.dimension})


def _envelope(degradation: Degradation, transition: str, at: datetime) -> dict[str, Any]:
    """Envelope attributes of a degradation event: ids derived from the degradation, data time."""
    return {
        "network_id": degradation.scope.network_id,
        "site_id": degradation.scope.site_id,
        "source": "/analyzer/detection",
        "event_id": str(
            uuid.uuid5(DEGRADATION_EVENT_ID_NAMESPACE, f"{degradation.degradation_id}|{transition}")
        ),
        "subject": f"degradation/{degradation.degradation_id}",
        "time": at,
    }


def _resolved(degradation: Degradation, resolved_at: datetime) -> DegradationResolvedV1:
    return DegradationResolvedV1.create(
        data=DegradationResolved(
            degradation_id=degradation.degradation_id,
            scope=_event_scope(degradation),
            metric=degradation.metric,
            dimension=degradation.dimension,
            resolved_at=resolved_at,
            current=degradation.current,
        ),
        **_envelope(degradation, "resolved", resolved_at),
    )
