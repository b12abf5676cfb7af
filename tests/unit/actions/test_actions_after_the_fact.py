"""Acts recorded after the fact: ``occurred_at`` dates the act (history, validation, start,
end, evaluation, events), ``recorded_at`` says when it was typed in; an act in the future
or before the item's last recorded act is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from boucle_actions.domain.actions import ActionDetails, Actor
from boucle_actions.domain.chronology import CLOCK_SKEW, ChronologyError, act_time
from boucle_actions.usecases.actions import Origin
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, KpiTarget
from boucle_contracts.cases.v1 import CaseStatus
from boucle_contracts.examples import example_of
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemUpdatedV1
from boucle_contracts.signals.v1 import Metric
from tests.unit.actions.test_actions_request_ids import LYON, NET, World

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
RECEIVED = datetime(2025, 3, 17, 10, 5, tzinfo=UTC)  # the example complaint's
LEAD = Actor("usr-lead", may_validate=True)
READY = ActionDetails(
    title="Former les formateurs à la plateforme",
    problem="Coupures de la plateforme.",
    measures=("Deux sessions de prise en main",),
    owner="usr-owner",
    due_date=date(2025, 4, 30),
    kpi=KpiTarget(metric=Metric.MEAN_SATISFACTION, target=4.0),
)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def test_an_act_defaults_to_now_and_is_refused_in_the_future_or_out_of_order() -> None:
    assert act_time(None, now=NOW, not_before=NOW + timedelta(days=1), what="x") == NOW
    within_skew = NOW + CLOCK_SKEW
    assert act_time(within_skew, now=NOW, not_before=None, what="x") == within_skew
    with pytest.raises(ChronologyError, match="future"):
        act_time(within_skew + timedelta(seconds=1), now=NOW, not_before=None, what="x")
    with pytest.raises(ChronologyError, match="earlier than the case"):
        act_time(RECEIVED - timedelta(hours=1), now=NOW, not_before=RECEIVED, what="the case")
    with pytest.raises(ChronologyError, match="time zone"):
        act_time(datetime(2025, 3, 18), now=NOW, not_before=None, what="x")
    paris = datetime.fromisoformat("2025-03-18T11:00:00+01:00")
    assert act_time(paris, now=NOW, not_before=RECEIVED, what="x") == datetime(
        2025, 3, 18, 10, tzinfo=UTC
    )


async def test_a_case_acknowledged_after_the_fact_is_dated_when_it_happened() -> None:
    world = World(Clock())
    case = await world.case_at("lyon")
    acknowledged_at = RECEIVED + timedelta(hours=20)

    moved = await world.cases.transition(
        case,
        CaseStatus.ACKNOWLEDGED,
        actor="usr-site",
        expected_revision=1,
        occurred_at=acknowledged_at,
    )

    assert moved.acknowledged_at == acknowledged_at
    assert (moved.history[-1].at, moved.history[-1].recorded_at) == (acknowledged_at, NOW)
    (event,) = [e for e in world.sink.events if e.type.endswith("case_transitioned.v1")]
    assert (event.data.at, event.data.recorded_at, event.time) == (
        acknowledged_at,
        NOW,
        acknowledged_at,
    )


async def test_a_case_act_before_its_opening_or_its_last_act_or_in_the_future_is_refused() -> None:
    world = World(Clock())
    case = await world.case_at("lyon")
    for refused in (RECEIVED - timedelta(minutes=1), NOW + timedelta(minutes=6)):
        with pytest.raises(ChronologyError):
            await world.cases.transition(
                case, CaseStatus.ACKNOWLEDGED, actor="u", expected_revision=1, occurred_at=refused
            )
    moved = await world.cases.transition(
        case,
        CaseStatus.ACKNOWLEDGED,
        actor="u",
        expected_revision=1,
        occurred_at=RECEIVED + timedelta(days=1),
    )

    with pytest.raises(ChronologyError, match="last recorded act"):
        await world.cases.transition(
            moved,
            CaseStatus.ANALYSED,
            actor="u",
            expected_revision=2,
            root_cause="Hébergeur saturé",
            occurred_at=RECEIVED + timedelta(hours=12),
        )
    assert (await world.cases.get(NET, case.case_id)).revision == 2, "nothing stored"


async def test_an_action_lives_its_whole_life_in_data_time() -> None:
    world = World(Clock())
    case = await world.case_at("lyon")
    decided = RECEIVED + timedelta(days=3)
    with pytest.raises(ChronologyError, match="case or meeting"):
        await world.actions.create(
            network_id=NET,
            request_id="req-early",
            details=READY,
            scope=LYON,
            actor="usr-lead",
            origin=Origin(kind=ActionOrigin.COMPLAINT_CASE, case=case),
            occurred_at=RECEIVED - timedelta(days=1),
        )

    action = await world.actions.create(
        network_id=NET,
        request_id="req-1",
        details=READY,
        scope=LYON,
        actor="usr-lead",
        origin=Origin(kind=ActionOrigin.COMPLAINT_CASE, case=case),
        occurred_at=decided,
    )
    days = {ActionStatus.VALIDATED: 7, ActionStatus.IN_PROGRESS: 10, ActionStatus.DONE: 40}
    for to, day in days.items():
        action = await world.actions.transition(
            action,
            to,
            actor=LEAD,
            expected_revision=action.revision,
            occurred_at=decided + timedelta(days=day),
        )
    evaluated = await world.actions.evaluate(action, occurred_at=decided + timedelta(days=70))

    assert (action.created_at, action.history[0].recorded_at) == (decided, NOW)
    assert action.validation is not None
    assert action.validation.at == decided + timedelta(days=7)
    assert action.started_at == decided + timedelta(days=10)
    assert action.done_at == decided + timedelta(days=40)
    assert action.evaluate_after == decided + timedelta(days=68)
    assert evaluated.evaluations[-1].at == decided + timedelta(days=70)
    assert evaluated.history[-1].recorded_at == NOW
    stamps = [h.at for h in evaluated.history]
    assert stamps == sorted(stamps), "the history reads in order"
    created = world.sink.events[0]
    assert (created.data.created_at, created.data.recorded_at, created.time) == (
        decided,
        NOW,
        decided,
    )
    evaluations = [e for e in world.sink.events if e.type.endswith("action_evaluated.v1")]
    assert [e.data.evaluated_at for e in evaluations] == [decided + timedelta(days=70)]


async def test_an_action_act_before_its_last_move_is_refused_but_an_edit_does_not_block() -> None:
    world = World(Clock())
    action = await world.actions.create(
        network_id=NET,
        request_id="req-1",
        details=READY.model_copy(update={"owner": None}),
        scope=LYON,
        actor="usr-lead",
        occurred_at=RECEIVED,
    )
    # the owner typed in today: later acts recorded after the fact are still accepted
    edited = await world.actions.update(
        action, {"owner": "usr-owner"}, actor="usr-lead", expected_revision=action.revision
    )
    validated = await world.actions.transition(
        edited,
        ActionStatus.VALIDATED,
        actor=LEAD,
        expected_revision=edited.revision,
        occurred_at=RECEIVED + timedelta(days=5),
    )

    with pytest.raises(ChronologyError, match="last recorded act"):
        await world.actions.transition(
            validated,
            ActionStatus.IN_PROGRESS,
            actor=LEAD,
            expected_revision=validated.revision,
            occurred_at=RECEIVED + timedelta(days=4),
        )
    with pytest.raises(ChronologyError, match="creation"):
        await world.actions.comment(
            validated,
            "Noté en réunion",
            actor="usr-lead",
            expected_revision=validated.revision,
            occurred_at=RECEIVED - timedelta(days=1),
        )
    assert edited.history[-1].at == NOW


async def test_notes_of_a_replayed_problem_are_dated_in_data_time() -> None:
    world = World(Clock())
    opened, updated = example_of(ProblemOpenedV1), example_of(ProblemUpdatedV1)
    draft, _ = await world.actions.draft_from_problem(opened)

    noted = await world.actions.note_problem(updated)

    assert noted is not None
    assert draft.created_at == opened.data.detected_at
    assert noted.comments[-1].at == updated.data.updated_at
    assert noted.history[-1].recorded_at == NOW
