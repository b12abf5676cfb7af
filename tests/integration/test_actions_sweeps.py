"""The periodic sweep on the real database: leftover outboxes published once, evaluations run
once the window has passed, overdue deadlines announced once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from boucle_actions.adapters.mongo import (
    MongoActionRepository,
    MongoCaseRepository,
    MongoKpiRepository,
    MongoMeetingRepository,
)
from boucle_actions.domain.actions import ActionDetails, Actor
from boucle_actions.domain.cases import deadlines_of, open_complaint_case
from boucle_actions.domain.effectiveness import EvaluationPolicy
from boucle_actions.metrics import ActionsMetrics
from boucle_actions.usecases.actions import ActionWorkflow
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.outbox import Relay
from boucle_contracts.actions.v1 import ActionStatus, KpiTarget
from boucle_contracts.common import Period
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.metrics.v1 import DimensionFigures, Granularity, ScopeMetricsUpdated
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1, DegradationResolvedV1, Metric

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 3, tzinfo=UTC)
SCOPE = Scope(level=ScopeLevel.SITE, network_id="net-sweep", site_id="lyon")


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Sink:
    events: list[AnyEvent] = field(default_factory=list)

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


@dataclass
class World:
    clock: Clock
    sink: Sink
    cases: CaseWorkflow
    actions: ActionWorkflow
    kpis: MongoKpiRepository
    relay: Relay
    case_repo: MongoCaseRepository


@pytest.fixture
async def world(mongodb_uri: str, isolation: str) -> AsyncIterator[World]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    database = f"boucle_actions_{isolation}"
    clock, sink = Clock(), Sink()
    relay = Relay(sink)
    metrics = ActionsMetrics(CollectorRegistry())
    case_repo = MongoCaseRepository(client, database)
    action_repo = MongoActionRepository(client, database)
    kpis = MongoKpiRepository(client, database)
    for repo in (case_repo, action_repo, kpis):
        await repo.create_indexes()
    cases = CaseWorkflow(cases=case_repo, relay=relay, metrics=metrics, clock=clock)
    actions = ActionWorkflow(
        actions=action_repo,
        cases=cases,
        meetings=MongoMeetingRepository(client, database),
        kpis=kpis,
        relay=relay,
        policy=EvaluationPolicy(window=timedelta(days=14), min_sample_size=30),
        clock=clock,
    )
    try:
        yield World(clock, sink, cases, actions, kpis, relay, case_repo)
    finally:
        await client.drop_database(database)
        await client.close()


def week(start: datetime, ratings: list[int]) -> ScopeMetricsUpdated:
    return ScopeMetricsUpdated(
        scope=SCOPE,
        granularity=Granularity.WEEK,
        period=Period(start=start, end=start + timedelta(days=7)),
        responses=len(ratings),
        dimensions=(
            DimensionFigures(
                dimension="overall",
                count=len(ratings),
                total=sum(ratings),
                total_squares=sum(r * r for r in ratings),
                satisfied=sum(r >= 4 for r in ratings),
            ),
        ),
        revision=1,
        last_event_id="evt",
    )


async def test_a_done_action_is_evaluated_by_the_sweep_once_its_window_has_passed(
    world: World,
) -> None:
    lead = Actor("usr-lead", may_validate=True)
    action = await world.actions.create(
        network_id=SCOPE.network_id,
        request_id="req-1",
        details=ActionDetails(
            title="Accueil",
            problem="Accueil jugé froid",
            owner="usr-o",
            due_date=T0.date(),
            measures=("Formation accueil",),
            kpi=KpiTarget(metric=Metric.MEAN_SATISFACTION, target=4.5),
        ),
        scope=SCOPE,
        actor="usr-lead",
    )
    for to in (ActionStatus.VALIDATED, ActionStatus.IN_PROGRESS, ActionStatus.DONE):
        world.clock.now += timedelta(days=7)
        action = await world.actions.transition(
            action, to, actor=lead, expected_revision=action.revision
        )
    for n in range(2):
        await world.kpis.keep_latest(
            snapshot=week(T0 - timedelta(days=14 - 7 * n), [3] * 20 + [2] * 20)
        )
        await world.kpis.keep_latest(
            snapshot=week(world.clock.now + timedelta(days=7 * n), [5] * 25 + [4] * 15)
        )

    world.clock.now += timedelta(days=13)
    assert await world.actions.sweep_evaluations() == 0, "the window has not passed yet"
    world.clock.now += timedelta(days=1)
    assert await world.actions.sweep_evaluations() == 1
    assert await world.actions.sweep_evaluations() == 0, "evaluated once"

    evaluated = await world.actions.get(SCOPE.network_id, action.action_id)
    assert evaluated.status is ActionStatus.EFFECTIVE
    (evaluation,) = evaluated.evaluations
    assert (evaluation.before_size, evaluation.after_size) == (80, 80)
    types = [e.type.rsplit(".", 2)[-2] for e in world.sink.events]
    assert types[-2:] == ["improvement_action_evaluated", "improvement_action_transitioned"]


async def test_weeks_replayed_after_the_fact_evaluate_an_action_when_its_weeks_are_in(
    world: World,
) -> None:
    """Acts recorded in data time (2025) while the clock says 2026: the sweep waits for the
    analyzer's figures to reach the window's end, and dates the evaluation when they do."""
    lead = Actor("usr-lead", may_validate=True)
    world.clock.now = T0 + timedelta(days=400)
    action = await world.actions.create(
        network_id=SCOPE.network_id,
        request_id="req-data-time",
        details=ActionDetails(
            title="Accueil",
            problem="Accueil jugé froid",
            owner="usr-o",
            due_date=T0.date(),
            measures=("Formation accueil",),
            kpi=KpiTarget(metric=Metric.MEAN_SATISFACTION, target=4.5),
        ),
        scope=SCOPE,
        actor="usr-lead",
        occurred_at=T0,
    )
    for days, to in ((7, ActionStatus.VALIDATED), (8, ActionStatus.IN_PROGRESS)):
        action = await world.actions.transition(
            action,
            to,
            actor=lead,
            expected_revision=action.revision,
            occurred_at=T0 + timedelta(days=days),
        )
    done_at = T0 + timedelta(days=14)
    action = await world.actions.transition(
        action,
        ActionStatus.DONE,
        actor=lead,
        expected_revision=action.revision,
        occurred_at=done_at,
    )
    for n in range(2):
        await world.kpis.keep_latest(snapshot=week(T0 - timedelta(days=14 - 7 * n), [3] * 40))

    assert await world.actions.sweep_evaluations() == 0, "no figures after the action yet"
    await world.kpis.keep_latest(snapshot=week(done_at, [5] * 40))
    assert await world.actions.sweep_evaluations() == 0, "one week of two"
    await world.kpis.keep_latest(snapshot=week(done_at + timedelta(days=7), [5] * 40))
    assert await world.actions.sweep_evaluations() == 1

    evaluated = await world.actions.get(SCOPE.network_id, action.action_id)
    assert evaluated.status is ActionStatus.EFFECTIVE
    (evaluation,) = evaluated.evaluations
    assert evaluation.at == done_at + timedelta(days=14), "when the window's figures were in"
    assert (evaluation.before_size, evaluation.after_size) == (80, 80)
    assert evaluated.history[-1].recorded_at == world.clock.now


async def test_events_left_in_an_outbox_by_a_crash_are_published_once(world: World) -> None:
    store = world.actions.actions
    action = await world.actions.create(
        network_id=SCOPE.network_id,
        request_id="req-2",
        details=ActionDetails(title="t", problem="p"),
        scope=SCOPE,
        actor="u",
    )
    moved = action.model_copy(update={"revision": 2, "status": ActionStatus.CANCELLED})
    stranded = world.sink.events[0].model_copy(update={"id": "evt-stranded"})
    await store.save(moved, expected_revision=1, events=[stranded])  # crash: never flushed

    assert await world.relay.drain(store) == 1
    assert await world.relay.drain(store) == 0
    assert [e.id for e in world.sink.events].count("evt-stranded") == 1


async def test_overdue_deadlines_are_announced_once_per_case_and_deadline(world: World) -> None:
    complaint = example_of(ComplaintReceivedV1)
    opened = open_complaint_case(complaint.id, complaint.data, deadlines_of(48, 15))
    await world.case_repo.open(case=opened, network_id="net-sweep", site_id="lyon")

    world.clock.now = opened.opened_at + timedelta(days=3)
    assert await world.cases.sweep_overdue() == 1
    assert await world.cases.sweep_overdue() == 0
    world.clock.now = opened.opened_at + timedelta(days=16)
    assert await world.cases.sweep_overdue() == 1
    assert await world.cases.sweep_overdue() == 0

    deadlines = [e.data.deadline for e in world.sink.events]
    assert deadlines == ["acknowledge", "answer"]
    case = await world.cases.get("net-sweep", opened.case_id)
    assert case.overdue == ("acknowledge", "answer")
    assert await world.cases.cases.get(network_id="other-net", entity_id=opened.case_id) is None


async def test_a_resolved_degradation_is_noted_once_on_its_undecided_draft(world: World) -> None:
    detected = example_of(DegradationDetectedV1)
    resolved = example_of(DegradationResolvedV1)
    draft, made = await world.actions.draft_from(detected)
    again, made_again = await world.actions.draft_from(detected)

    await world.actions.note_resolution(resolved)
    noted = await world.actions.note_resolution(resolved)  # redelivered

    assert (made, made_again, again.action_id) == (True, False, draft.action_id)
    assert noted is not None
    assert noted.status is ActionStatus.DRAFT
    (comment,) = noted.comments
    assert comment.text.startswith("Dégradation deg-2025-0007 résolue le 12 mai 2025 : ")
    updated = [e for e in world.sink.events if e.type.endswith("improvement_action_updated.v1")]
    assert [e.data.fields for e in updated] == [("comments",)]
