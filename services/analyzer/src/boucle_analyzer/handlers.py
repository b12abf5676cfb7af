"""Contract in, domain, contract out.

Input events become aggregates (and minimal comment records); changed aggregates become
``scope_metrics_updated`` snapshots; completed weeks become degradation signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from faststream.kafka.annotations import KafkaMessage

from boucle_analyzer.domain import detection
from boucle_analyzer.domain.aggregation import (
    Contribution,
    complaint_contribution,
    completion_contribution,
    dropout_contribution,
    enrolment_contribution,
    hazard_contribution,
    response_contribution,
    scopes_for,
    spread,
)
from boucle_analyzer.domain.detection import (
    WEEK,
    DetectionConfig,
    Episode,
    Finding,
    ScopeSeries,
    advance,
    evaluate,
    finite,
    window_counts,
)
from boucle_analyzer.domain.ports import (
    AggregateStore,
    CommentRecord,
    CommentStore,
    EpisodeStore,
    FigureReader,
    Position,
    Receipt,
)
from boucle_analyzer.domain.statistics import TestResult
from boucle_analyzer.domain.themes import TaxonomyCatalog, classify
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.common import TrainingRef
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1, TextAnswer
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated, ScopeMetricsUpdatedV1
from boucle_contracts.scope import Scope
from boucle_contracts.signals.v1 import (
    DegradationDetected,
    DegradationDetectedV1,
    DegradationResolved,
    DegradationResolvedV1,
    StatisticalTest,
    ThemeShare,
)
from boucle_contracts.training.v1 import DropoutRecordedV1, EnrolmentRecordedV1, SessionCompletedV1
from boucle_runtime.consumer import Consumers
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
SNAPSHOT_ID_NAMESPACE = uuid.UUID("0b7d0b1e-9a55-5c55-8a0e-3c2f4d5e6f70")
SIGNAL_ID_NAMESPACE = uuid.UUID("7c1e4a52-3f0d-5b6e-a9c8-2d4f6b8e0a13")
InputEvent = (
    SurveyResponseSubmittedV1
    | ComplaintReceivedV1
    | HazardReportedV1
    | EnrolmentRecordedV1
    | SessionCompletedV1
    | DropoutRecordedV1
)
INPUT_EVENTS = (
    SurveyResponseSubmittedV1,
    ComplaintReceivedV1,
    HazardReportedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
    DropoutRecordedV1,
)
EXAMPLE_COMMENTS = 3


class InputHandler:
    """Applies each input event once: ledger, comment records, then every aggregate."""

    def __init__(
        self,
        *,
        store: AggregateStore,
        comments: CommentStore,
        taxonomies: TaxonomyCatalog,
        metrics: AnalyzerMetrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._comments = comments
        self._taxonomies = taxonomies
        self._metrics = metrics
        self._clock = clock

    async def handle(self, event: InputEvent, position: Position) -> Receipt:
        started = time.perf_counter()
        receipt = await self._store.receive(event_id=event.id, position=position)
        if receipt is Receipt.DUPLICATE:
            self._metrics.events.labels(event.type, "duplicate").inc()
            log.info("duplicate_event_skipped", event_id=event.id)
            return receipt
        contribution, records = self._contribution(event)
        await self._comments.keep(records=records)
        deltas = spread(event.network_id, event.site_id, contribution)
        await self._store.apply_all(
            deltas=deltas,
            position=position,
            event_id=event.id,
            redelivery=receipt is Receipt.REDELIVERY,
        )
        self._metrics.events.labels(event.type, receipt.value).inc()
        self._metrics.latency.labels(event.type).observe(time.perf_counter() - started)
        self._metrics.event_age.observe(max(0.0, (self._clock() - event.time).total_seconds()))
        return receipt

    def _contribution(self, event: InputEvent) -> tuple[Contribution, list[CommentRecord]]:
        if isinstance(event, SurveyResponseSubmittedV1):
            response = event.data
            texts = [(c.comment_id, c.text) for c in response.comments]
            texts += [
                (_text_answer_id(response.response_id, a.question_id), a.value)
                for a in response.answers
                if isinstance(a, TextAnswer)
            ]
            records = self._records(event, response.training, response.submitted_at, texts)
            negative = [r for r in records if r.negative]
            themes = [theme for r in negative for theme in r.themes]
            contribution = response_contribution(response, themes, len(negative))
            return contribution, records
        if isinstance(event, ComplaintReceivedV1):
            complaint = event.data
            text = f"{complaint.subject}. {complaint.description}"
            records = self._records(
                event, complaint.training, complaint.received_at, [(complaint.complaint_id, text)]
            )
            themes = list(records[0].themes)
            taxonomy = self._taxonomies.for_network(event.network_id)
            hint = complaint.category_hint
            if hint is not None and hint in taxonomy.themes and hint not in themes:
                themes.append(hint)
            # A complaint is a negative text whatever its wording.
            records = [replace(records[0], themes=tuple(themes), negative=True)]
            return complaint_contribution(complaint, themes), records
        if isinstance(event, HazardReportedV1):
            return hazard_contribution(event.data), []
        if isinstance(event, EnrolmentRecordedV1):
            return enrolment_contribution(event.data), []
        if isinstance(event, SessionCompletedV1):
            return completion_contribution(event.data), []
        return dropout_contribution(event.data), []

    def _records(
        self,
        event: InputEvent,
        training: TrainingRef,
        at: datetime,
        texts: list[tuple[str, str]],
    ) -> list[CommentRecord]:
        taxonomy = self._taxonomies.for_network(event.network_id)
        keys = tuple(s.key() for s in scopes_for(event.network_id, event.site_id, training))
        source = "survey" if isinstance(event, SurveyResponseSubmittedV1) else "complaint"
        records = []
        for comment_id, text in texts:
            found = classify(taxonomy, text)
            records.append(
                CommentRecord(
                    comment_id=comment_id,
                    network_id=event.network_id,
                    scope_keys=keys,
                    at=at,
                    source=source,
                    themes=found.themes,
                    negative=found.negative,
                    stems=found.stems,
                    event_id=event.id,
                )
            )
        return records


def _text_answer_id(response_id: str, question_id: str) -> str:
    """An identifier (at most 128 characters) for a free-text answer, which has none."""
    joined = f"{response_id}:{question_id}"
    return joined if len(joined) <= 128 else f"text:{uuid.uuid5(uuid.NAMESPACE_URL, joined)}"


async def _every(
    stopping: asyncio.Event, interval_seconds: float, step: Callable[[], Awaitable[bool]]
) -> None:
    """Run ``step`` (True when more work waits: no pause) every interval until stopped."""
    while not stopping.is_set():
        busy = False
        try:
            busy = await step()
        except Exception as exc:  # keep the loop alive through outages; state persists
            log.warning(
                "background_step_failed", step=getattr(step, "__name__", "?"), error=repr(exc)
            )
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=interval_seconds)


class SnapshotPublisher:
    """Publishes the figures of every aggregate that changed since its last publication.

    The "changed" flag lives in the aggregate document, so a crash between persisting and
    publishing loses nothing: the next round publishes it. Snapshot ids derive from the
    aggregate and its revision, so a re-publication is recognised downstream.
    """

    def __init__(
        self,
        *,
        store: AggregateStore,
        publisher: EventSink,
        metrics: AnalyzerMetrics,
        batch_size: int,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._batch_size = batch_size

    async def publish_pending(self) -> int:
        snapshots = await self._store.pending_snapshots(limit=self._batch_size)
        for snapshot in snapshots:
            await self._publisher.publish(self._event(snapshot))
            await self._store.mark_published(snapshot=snapshot)
            self._metrics.snapshots.inc()
        return len(snapshots)

    async def run(self, stopping: asyncio.Event, interval_seconds: float) -> None:
        async def step() -> bool:
            return await self.publish_pending() >= self._batch_size

        await _every(stopping, interval_seconds, step)

    @staticmethod
    def _event(snapshot: ScopeMetricsUpdated) -> ScopeMetricsUpdatedV1:
        key = snapshot.key
        return ScopeMetricsUpdatedV1.create(
            data=snapshot,
            network_id=snapshot.scope.network_id,
            site_id=snapshot.scope.site_id,
            source="/analyzer/aggregates",
            event_id=str(uuid.uuid5(SNAPSHOT_ID_NAMESPACE, f"{key}|{snapshot.revision}")),
            subject=key,
        )


class DetectionRunner:
    """Evaluates each network's completed weeks in order and publishes episode transitions.

    A per-network cursor (the last week evaluated) lives in the episode store. For each
    week: findings, then transitions against the open episodes; events are published
    first (ids derive from the degradation id, itself from scope, metric, dimension and
    opening week), then episodes are saved, then the cursor moves. A crash anywhere
    re-runs the same week and re-publishes the same ids, which consumers deduplicate.
    """

    def __init__(
        self,
        *,
        figures: FigureReader,
        episodes: EpisodeStore,
        comments: CommentStore,
        publisher: EventSink,
        metrics: AnalyzerMetrics,
        config: DetectionConfig,
        max_weeks_per_run: int = 8,
        grace: timedelta = timedelta(hours=48),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._figures = figures
        self._episodes = episodes
        self._comments = comments
        self._publisher = publisher
        self._metrics = metrics
        self._config = config
        self._max_weeks = max_weeks_per_run
        self._grace = grace
        self._clock = clock

    @property
    def _span(self) -> timedelta:
        return (max(self._config.windows) + self._config.baseline_weeks) * WEEK

    async def run_once(self) -> bool:
        """One round over every network; True when some network has weeks left to catch up."""
        behind = False
        for network_id in await self._figures.networks():
            try:
                behind |= await self._network(network_id)
            except Exception as exc:  # one network's failure must not stop the others
                log.warning("detection_failed", network_id=network_id, error=repr(exc))
        self._metrics.degradations_open.set(await self._episodes.count_open())
        return behind

    async def run(self, stopping: asyncio.Event, interval_seconds: float) -> None:
        await _every(stopping, interval_seconds, self.run_once)

    def _due(self, series: list[ScopeSeries], through: datetime | None) -> list[datetime]:
        network = next((s for s in series if s.scope.level.value == "network"), None)
        if network is None or not network.weeks:
            return []
        first, latest = min(network.weeks), max(network.weeks)
        week = through + WEEK if through is not None else first + max(self._config.windows) * WEEK
        now = self._clock()
        due: list[datetime] = []
        while len(due) < self._max_weeks + 1:
            end = week + WEEK
            if end > now or (week >= latest and end + self._grace > now):
                break
            due.append(week)
            week = end
        return due

    async def _network(self, network_id: str) -> bool:
        through = await self._episodes.evaluated_through(network_id=network_id)
        since = (
            (through + WEEK - self._span)
            if through is not None
            else datetime.min.replace(tzinfo=UTC)
        )
        series = await self._figures.weekly_series(network_id=network_id, since=since)
        due = self._due(series, through)
        if not due:
            return False
        open_episodes = await self._episodes.open_episodes(network_id=network_id)
        for week in due[: self._max_weeks]:
            findings = evaluate(series, week, self._config)
            transitions = advance(open_episodes, findings, week, self._config)
            by_key = {s.scope.key(): s for s in series}
            for episode, finding in transitions.opened:
                event = await self._detected(episode, finding, by_key[finding.scope.key()])
                await self._publisher.publish(event)
                self._metrics.degradations.labels("detected", episode.metric.value).inc()
                log.info("degradation_detected", degradation_id=episode.degradation_id)
            for episode in transitions.resolved:
                await self._publisher.publish(_resolved(episode, week + WEEK))
                self._metrics.degradations.labels("resolved", episode.metric.value).inc()
                log.info("degradation_resolved", degradation_id=episode.degradation_id)
            await self._episodes.save(network_id=network_id, episodes=transitions.changed)
            open_episodes = transitions.still_open(open_episodes)
            await self._episodes.set_evaluated_through(network_id=network_id, week=week)
            self._metrics.weeks_evaluated.inc()
        return len(due) > self._max_weeks

    async def _detected(
        self, episode: Episode, finding: Finding, series: ScopeSeries
    ) -> DegradationDetectedV1:
        period = finding.current.period
        counts = window_counts(series.weeks, period.start, period.end)
        negative = counts.get("negative_comments", 0)
        themes = sorted(
            (
                (name.removeprefix("themes."), value)
                for name, value in counts.items()
                if name.startswith("themes.") and value
            ),
            key=lambda item: (-item[1], item[0]),
        )[:5]
        candidates = await self._comments.examples(
            network_id=series.scope.network_id,
            scope_key=series.scope.key(),
            start=period.start,
            end=period.end,
            limit=50,
        )
        on_topic = [c for c in candidates if finding.dimension in c.themes] or candidates
        detected_at = period.end
        return DegradationDetectedV1.create(
            data=DegradationDetected(
                degradation_id=episode.degradation_id,
                scope=_signal_scope(episode),
                metric=finding.metric,
                dimension=finding.dimension,
                detected_at=detected_at,
                baseline=finding.baseline,
                current=finding.current,
                tests=_tests(finding),
                severity=detection.severity(finding.metric, finding.effect, self._config),
                themes=tuple(
                    ThemeShare(
                        theme=theme,
                        share=min(1.0, count / negative) if negative else 0.0,
                        comment_count=count,
                    )
                    for theme, count in themes
                ),
                example_comment_ids=tuple(c.comment_id for c in on_topic[:EXAMPLE_COMMENTS]),
            ),
            **_envelope(episode, "detected", detected_at),
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
    """The decision (own baseline, BH-adjusted), the 4-5 share as evidence, the peers."""
    tests = [_statistical(finding.own.test, "own_baseline", finding.own.adjusted_p_value)]
    if finding.share is not None:
        tests.append(_statistical(finding.share, "own_baseline", None))
    if finding.peers is not None:
        tests.append(
            _statistical(finding.peers.test, "network_peers", finding.peers.adjusted_p_value)
        )
    return tuple(tests)


def _signal_scope(episode: Episode) -> Scope:
    """The episode's scope, narrowed to its dimension when it has one."""
    if episode.dimension is None:
        return episode.scope
    return episode.scope.model_copy(update={"dimension": episode.dimension})


def _envelope(episode: Episode, transition: str, at: datetime) -> dict[str, Any]:
    """Envelope attributes of a signal: ids derived from the degradation, data time."""
    return {
        "network_id": episode.scope.network_id,
        "site_id": episode.scope.site_id,
        "source": "/analyzer/detection",
        "event_id": str(uuid.uuid5(SIGNAL_ID_NAMESPACE, f"{episode.degradation_id}|{transition}")),
        "subject": f"degradation/{episode.degradation_id}",
        "time": at,
    }


def _resolved(episode: Episode, resolved_at: datetime) -> DegradationResolvedV1:
    return DegradationResolvedV1.create(
        data=DegradationResolved(
            degradation_id=episode.degradation_id,
            scope=_signal_scope(episode),
            metric=episode.metric,
            dimension=episode.dimension,
            resolved_at=resolved_at,
            current=episode.current,
        ),
        **_envelope(episode, "resolved", resolved_at),
    )


def subscribe(consumers: Consumers, handler: InputHandler) -> None:
    @consumers.subscriber(handles=INPUT_EVENTS)
    async def on_input(event: InputEvent, message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple), "batch delivery is not used here"
        await handler.handle(event, Position(record.topic, record.partition, record.offset))
