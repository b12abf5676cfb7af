"""A client request_id is scoped to the network and site it was first used for: sent again
for that site it returns what it made, sent for another site it is refused (409) and neither
returns nor links the other site's action or meeting. Ids keep their derivation, so a retry
of something stored before finds it instead of making a duplicate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import pytest
from prometheus_client import CollectorRegistry

from boucle_actions.domain.actions import Action, ActionDetails, action_id_for, new_action
from boucle_actions.domain.cases import Case, deadlines_of, open_complaint_case
from boucle_actions.domain.effectiveness import EvaluationPolicy
from boucle_actions.domain.meetings import Meeting, MeetingRecord, meeting_id_for
from boucle_actions.domain.ports import ConflictError, Query
from boucle_actions.metrics import ActionsMetrics
from boucle_actions.usecases.actions import ActionWorkflow, Origin
from boucle_actions.usecases.cases import CaseWorkflow
from boucle_actions.usecases.common import RequestIdReusedError
from boucle_actions.usecases.meetings import MeetingWorkflow
from boucle_actions.usecases.outbox import Relay
from boucle_contracts.actions.v1 import ActionOrigin
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel

pytestmark = pytest.mark.unit

NET = "net-a"
T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
LYON = Scope(level=ScopeLevel.SITE, network_id=NET, site_id="lyon")
PARIS = Scope(level=ScopeLevel.SITE, network_id=NET, site_id="paris")
NETWORK = Scope(level=ScopeLevel.NETWORK, network_id=NET)
M = TypeVar("M", Case, Action, Meeting)


class InMemoryEntities(Generic[M]):
    """Entities with MongoEntities' semantics: insert once, reads scoped to the network."""

    def __init__(self, id_field: str) -> None:
        self.stored: dict[str, M] = {}
        self.outbox: dict[str, list[str]] = {}
        self._id_field = id_field

    def _id(self, entity: M) -> str:
        value = getattr(entity, self._id_field)
        assert isinstance(value, str)
        return value

    async def insert(self, entity: M, *, events: Sequence[AnyEvent] = ()) -> bool:
        if self._id(entity) in self.stored:
            return False
        self.stored[self._id(entity)] = entity
        self.outbox[self._id(entity)] = [e.to_json_bytes().decode() for e in events]
        return True

    async def get(self, *, network_id: str, entity_id: str) -> M | None:
        found = self.stored.get(entity_id)
        return found if found is not None and found.network_id == network_id else None

    async def save(
        self, entity: M, *, expected_revision: int, events: Sequence[AnyEvent] = ()
    ) -> None:
        current = self.stored.get(self._id(entity))
        if current is None or current.revision != expected_revision:
            raise ConflictError("stale")
        self.stored[self._id(entity)] = entity

    async def add_once(
        self,
        *,
        network_id: str,
        entity_id: str,
        field: str,
        value: str,
        events: Sequence[AnyEvent] = (),
    ) -> bool:
        found: M | None = await self.get(network_id=network_id, entity_id=entity_id)
        if found is None or value in getattr(found, field):
            return False
        self.stored[entity_id] = found.model_copy(update={field: (*getattr(found, field), value)})
        return True

    async def search(self, query: Query) -> tuple[list[M], int]:
        raise NotImplementedError

    async def pending(self, *, limit: int = 100) -> list[tuple[str, list[str]]]:
        return [(key, wire) for key, wire in self.outbox.items() if wire][:limit]

    async def published(self, *, entity_id: str, events: Sequence[str]) -> None:
        self.outbox[entity_id] = [e for e in self.outbox.get(entity_id, []) if e not in events]


class InMemoryCaseStore(InMemoryEntities[Case]):
    async def overdue_candidates(self, now: datetime) -> list[Case]:
        return []


class InMemoryActionStore(InMemoryEntities[Action]):
    async def due_for_evaluation(self, now: datetime) -> list[Action]:
        return []


class NoKpis:
    async def keep_latest(self, *, snapshot: ScopeMetricsUpdated) -> bool:
        return True

    async def snapshots_for(
        self, *, network_id: str, scope_key: str | None = None
    ) -> list[ScopeMetricsUpdated]:
        return []

    async def data_until(self, *, network_id: str) -> datetime | None:
        return None


@dataclass
class Sink:
    events: list[AnyEvent] = field(default_factory=list)

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


class World:
    def __init__(self, clock: Callable[[], datetime] = lambda: T0) -> None:
        self.sink = Sink()
        relay = Relay(self.sink)
        self.case_store = InMemoryCaseStore("case_id")
        self.action_store = InMemoryActionStore("action_id")
        self.meeting_store: InMemoryEntities[Meeting] = InMemoryEntities("meeting_id")
        self.cases = CaseWorkflow(
            cases=self.case_store,
            relay=relay,
            metrics=ActionsMetrics(CollectorRegistry()),
            clock=clock,
        )
        self.actions = ActionWorkflow(
            actions=self.action_store,
            cases=self.cases,
            meetings=self.meeting_store,
            kpis=NoKpis(),
            relay=relay,
            policy=EvaluationPolicy(),
            clock=clock,
        )
        self.meetings = MeetingWorkflow(meetings=self.meeting_store, relay=relay, clock=clock)

    async def create(
        self, scope: Scope, request_id: str, *, title: str = "Accueil", origin: Origin | None = None
    ) -> Action:
        return await self.actions.create(
            network_id=NET,
            request_id=request_id,
            details=ActionDetails(title=title, problem="Accueil jugé froid"),
            scope=scope,
            actor="usr-1",
            origin=origin or Origin(),
        )

    async def record(self, site_id: str | None, request_id: str, title: str = "Bilan") -> Meeting:
        return await self.meetings.record(
            network_id=NET,
            request_id=request_id,
            record=MeetingRecord(held_at=T0, title=title, site_id=site_id, attendees=("usr-1",)),
            actor="usr-1",
        )

    async def case_at(self, site_id: str) -> Case:
        complaint = example_of(ComplaintReceivedV1)
        opened = open_complaint_case(f"evt-{site_id}", complaint.data, deadlines_of(48, 15))
        case = Case.opened(opened, network_id=NET, site_id=site_id)
        await self.case_store.insert(case)
        return case


async def test_a_request_id_sent_again_for_its_site_returns_the_action_it_made() -> None:
    world = World()
    first = await world.create(LYON, "req-1")

    again = await world.create(LYON, "req-1", title="Autre titre")

    assert again == first
    assert len(world.action_store.stored) == 1
    assert len(world.sink.events) == 1, "created once"


async def test_a_refused_replay_is_a_conflict_that_does_not_name_the_other_site() -> None:
    world = World()
    await world.create(LYON, "req-1")

    with pytest.raises(ConflictError) as refused:
        await world.create(PARIS, "req-1")

    assert "req-1" in str(refused.value)
    assert "lyon" not in str(refused.value)


async def test_a_refused_replay_links_nothing_to_the_callers_case() -> None:
    world = World()
    lyon = await world.create(LYON, "req-1")
    paris_case = await world.case_at("paris")

    with pytest.raises(RequestIdReusedError):
        await world.create(
            PARIS, "req-1", origin=Origin(kind=ActionOrigin.COMPLAINT_CASE, case=paris_case)
        )

    stored_case = await world.cases.get(NET, paris_case.case_id)
    assert stored_case.action_ids == ()
    assert (await world.actions.get(NET, lyon.action_id)).case_ids == ()


@pytest.mark.parametrize(
    ("first", "then"), [(LYON, PARIS), (NETWORK, LYON), (LYON, NETWORK)], ids=str
)
async def test_a_request_id_of_another_site_is_refused_without_returning_its_action(
    first: Scope, then: Scope
) -> None:
    world = World()
    made = await world.create(first, "req-1")

    with pytest.raises(RequestIdReusedError, match="already used for an action of another site"):
        await world.create(then, "req-1")

    assert world.action_store.stored == {made.action_id: made}
    assert len(world.sink.events) == 1


async def test_action_ids_still_derive_from_network_and_request_id() -> None:
    # An action stored before the fix, and the client's retry of its request after it:
    # the retry finds it (no duplicate) because the derivation did not change.
    world = World()
    before = new_action(
        action_id=action_id_for(NET, "req-old"),
        details=ActionDetails(title="Accueil", problem="p"),
        scope=LYON,
        origin=ActionOrigin.MANUAL,
        actor="usr-1",
        at=T0,
    )
    await world.action_store.insert(before)

    retried = await world.create(LYON, "req-old")

    assert retried == before
    assert list(world.action_store.stored) == [action_id_for(NET, "req-old")]
    assert world.sink.events == []


async def test_a_meeting_request_id_sent_again_for_its_site_returns_the_meeting() -> None:
    world = World()
    first = await world.record("lyon", "mtg-req")

    again = await world.record("lyon", "mtg-req", title="Autre")

    assert again == first
    assert first.meeting_id == meeting_id_for(NET, "mtg-req"), "ids keep their derivation"
    assert len(world.sink.events) == 1


@pytest.mark.parametrize(("first", "then"), [("lyon", "paris"), (None, "paris"), ("lyon", None)])
async def test_a_meeting_request_id_of_another_site_is_refused(
    first: str | None, then: str | None
) -> None:
    world = World()
    made = await world.record(first, "mtg-req")

    with pytest.raises(RequestIdReusedError, match="already used for a meeting of another site"):
        await world.record(then, "mtg-req")

    assert world.meeting_store.stored == {made.meeting_id: made}
    assert len(world.sink.events) == 1
