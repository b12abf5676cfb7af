"""One draft action per problem: drafted once, updates and the resolution noted once, and no
draft per degradation while problems are on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from boucle_actions.domain.problem_drafts import draft_from_problem, problem_action_id
from boucle_actions.handlers import (
    CaseIntake,
    DegradationIntake,
    KpiIntake,
    ProblemIntake,
    subscribe,
)
from boucle_actions.metrics import ActionsMetrics
from boucle_contracts import kafka as wire
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, ImprovementActionCreatedV1
from boucle_contracts.examples import example_of
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1
from boucle_runtime.consumer import Consumers
from boucle_runtime.settings import ServiceSettings
from tests.unit.actions.test_actions_handlers import FixedDeadlines, InMemoryCases, InMemoryKpis
from tests.unit.actions.test_actions_request_ids import World

pytestmark = pytest.mark.unit

OPENED = example_of(ProblemOpenedV1)
UPDATED = example_of(ProblemUpdatedV1)
RESOLVED = example_of(ProblemResolvedV1)
DEGRADATION = example_of(DegradationDetectedV1)
NET = OPENED.network_id


def test_a_problem_drafts_one_action_naming_its_site_and_theme_in_french() -> None:
    draft = draft_from_problem(OPENED.data, at=OPENED.data.detected_at)

    assert draft.action_id == problem_action_id(NET, OPENED.data.problem_id)
    assert draft.status is ActionStatus.DRAFT
    assert draft.origin is ActionOrigin.DEGRADATION
    assert draft.title == (
        "Baisse de la satisfaction moyenne (plateforme) sur le site lyon-part-dieu"
        " — cause citée : la plateforme (72\u00a0%)"
    )
    assert draft.problem == (
        "La satisfaction moyenne (plateforme) est passée de 4,10 (n = 212) à 2,04 (n = 23) "
        "sur le site lyon-part-dieu. Gravité : critique ; 2 dégradations regroupées "
        f"(problème {OPENED.data.problem_id}). Thème principal des commentaires négatifs : "
        "la plateforme (72\u00a0%). 1 réclamation liée. Analyse des causes à mener."
    )
    assert [(s.kind, s.ref) for s in draft.sources] == [
        ("degradation", "deg-2025-0007"),
        ("degradation", "deg-2025-0008"),
        ("complaint", "rec-2025-012"),
    ]
    assert draft.site_id == "lyon-part-dieu"
    assert draft.scope.dimension == "platform"
    assert draft.kpi is not None
    assert draft.kpi.target == OPENED.data.degradations[0].baseline.value
    assert draft.evidence is not None
    assert draft.evidence["problem_id"] == OPENED.data.problem_id


def test_a_multi_site_problem_is_one_network_wide_draft_naming_every_site() -> None:
    lyon, nice = (
        Scope(level=ScopeLevel.SITE, network_id=NET, site_id=site) for site in ("lyon", "nice")
    )
    data = OPENED.data.model_copy(update={"scopes": (lyon, nice)})

    draft = draft_from_problem(data, at=data.detected_at)

    assert draft.title.startswith(
        "Baisse de la satisfaction moyenne (plateforme) sur 2 sites (lyon et nice)"
    )
    assert "sur 2 sites (lyon et nice)." in draft.problem
    assert draft.site_id is None
    assert (draft.scope.level, draft.scope.dimension) == (ScopeLevel.NETWORK, "platform")


async def test_a_redelivered_problem_finds_its_draft() -> None:
    world = World()

    first, made = await world.actions.draft_from_problem(OPENED)
    again, made_again = await world.actions.draft_from_problem(OPENED)

    assert (made, made_again) == (True, False)
    assert again.action_id == first.action_id
    assert list(world.action_store.stored) == [first.action_id]
    created = [e for e in world.sink.events if isinstance(e, ImprovementActionCreatedV1)]
    assert [e.causation_id for e in created] == [OPENED.id]


async def test_updates_and_the_resolution_are_noted_once_on_an_undecided_draft() -> None:
    world = World()
    await world.actions.draft_from_problem(OPENED)

    for event in (UPDATED, UPDATED, RESOLVED, RESOLVED):
        await world.actions.note_problem(event)

    draft = world.action_store.stored[problem_action_id(NET, OPENED.data.problem_id)]
    texts = [c.text for c in draft.comments]
    assert len(texts) == 2
    assert "dégradations résolues : deg-2025-0008" in texts[0]
    assert texts[1].startswith(f"Problème {OPENED.data.problem_id} résolu le 12 mai 2025")


async def test_a_decided_action_gets_no_note() -> None:
    world = World()
    draft, _ = await world.actions.draft_from_problem(OPENED)
    world.action_store.stored[draft.action_id] = draft.model_copy(
        update={"status": ActionStatus.VALIDATED}
    )

    noted = await world.actions.note_problem(RESOLVED)

    assert noted is not None
    assert noted.comments == ()


async def _route(*, problems_on: bool) -> tuple[list[str], list[str]]:
    """Publish a degradation and a problem to the subscriber; what each path drafted."""
    world = World()
    metrics = ActionsMetrics(CollectorRegistry())
    settings = ServiceSettings(topic_prefix="unit.")
    broker = KafkaBroker()
    consumers = Consumers(broker, settings, group="boucle-actions", registry=CollectorRegistry())
    subscribe(
        consumers,
        CaseIntake(
            cases=InMemoryCases(), publisher=world.sink, deadlines=FixedDeadlines(), metrics=metrics
        ),
        KpiIntake(kpis=InMemoryKpis(), metrics=metrics),
        degradations=None
        if problems_on
        else DegradationIntake(actions=world.actions, metrics=metrics),
        problems=ProblemIntake(actions=world.actions, metrics=metrics) if problems_on else None,
    )
    consumers.attach()
    async with TestKafkaBroker(broker) as br:
        for event in (DEGRADATION, OPENED, UPDATED):
            await br.publish(
                event.to_json_bytes(),
                topic=settings.topic(event.TOPIC),
                headers=wire.headers_for(event),
            )
    refs = [
        [s.ref for s in action.sources if s.kind == "degradation"]
        for action in world.action_store.stored.values()
    ]
    return [a.action_id for a in world.action_store.stored.values()], [r[0] for r in refs]


async def test_with_problems_on_only_the_problem_drafts_an_action() -> None:
    actions, _ = await _route(problems_on=True)

    assert actions == [problem_action_id(NET, OPENED.data.problem_id)]


async def test_with_problems_off_each_degradation_drafts_as_before() -> None:
    _, first_sources = await _route(problems_on=False)

    assert first_sources == [DEGRADATION.data.degradation_id]


def test_problem_drafts_are_dated_in_data_time() -> None:
    draft = draft_from_problem(OPENED.data, at=OPENED.data.detected_at)

    assert draft.created_at == OPENED.data.opened_week + timedelta(days=7)


async def test_an_undecided_draft_takes_the_sites_that_join_its_problem() -> None:
    world = World()
    draft, _ = await world.actions.draft_from_problem(OPENED)
    lyon, nice = OPENED.data.scopes[0], OPENED.data.scopes[0].model_copy(update={"site_id": "nice"})
    joined = UPDATED.model_copy(
        update={"data": UPDATED.data.model_copy(update={"scopes": (lyon, nice)})}
    )

    await world.actions.note_problem(joined)
    await world.actions.note_problem(joined)  # redelivered: nothing more

    after = world.action_store.stored[draft.action_id]
    assert "lyon-part-dieu et nice" in after.title
    assert "sur 2 sites" in after.problem
    assert after.site_id == draft.site_id  # an action's site never changes
    assert after.revision == draft.revision + 2  # retitled once, noted once


async def test_a_proposed_draft_keeps_what_a_person_wrote() -> None:
    world = World()
    draft, _ = await world.actions.draft_from_problem(OPENED)
    world.action_store.stored[draft.action_id] = draft.model_copy(
        update={"status": ActionStatus.PROPOSED, "title": "Plan plateforme"}
    )

    await world.actions.note_problem(UPDATED)

    assert world.action_store.stored[draft.action_id].title == "Plan plateforme"
