"""The projection's table: which event feeds which read-model collection."""

from __future__ import annotations

from typing import Any, cast

import pytest
from bench.reporter.scenario import analysis

from boucle_contracts.actions.v1 import AnalysisMeetingRecordedV1
from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.referential.v1 import PersonNamedV1, SiteNamedV1
from boucle_contracts.registry import ALL_EVENTS, AnyEvent
from boucle_reporter.adapters.memory import InMemoryReadModel
from boucle_reporter.domain.ports import COLLECTIONS
from boucle_reporter.domain.projection import WRITERS, writes_for

pytestmark = pytest.mark.unit


# Families whose every event shapes what a dossier shows (others, e.g. an erasure request,
# leave their trace in the evidence log only).
READ_FAMILIES = {
    "feedback",
    "training",
    "incidents",
    "metrics",
    "signals",
    "problems",
    "cases",
    "actions",
    "referential",
}


def test_every_event_type_of_the_families_documents_show_has_a_writer() -> None:
    shown = {e for e in ALL_EVENTS if e.EVENT_TYPE.split(".")[2] in READ_FAMILIES}

    assert len(shown) >= 20
    assert shown - set(WRITERS) == set()


@pytest.mark.parametrize("event_class", list(WRITERS), ids=lambda c: c.__name__)
def test_a_writer_feeds_the_collection_its_module_is_named_for(
    event_class: type[AnyEvent],
) -> None:
    # the example figures are not a site's month: the scenario's are
    event = (
        analysis("lyon", 3, responses=30, overall=4.0, platform=3.0)
        if event_class is ScopeMetricsUpdatedV1
        else EXAMPLES[event_class.EVENT_TYPE]
    )
    collection = WRITERS[event_class].__module__.rsplit(".", 1)[-1]

    writes = [w for w in writes_for(event, 1) if w.collection != "sites"]

    assert collection in COLLECTIONS
    assert {w.collection for w in writes} == {collection}


def test_an_event_without_a_writer_only_records_its_site(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    meeting = example_of(AnalysisMeetingRecordedV1)
    assert meeting.site_id
    table = cast(dict[object, Any], WRITERS)
    monkeypatch.delitem(table, AnalysisMeetingRecordedV1)  # as a type newer than the table

    (write,) = writes_for(meeting, 1)

    assert (write.collection, write.key) == ("sites", f"{meeting.network_id}|{meeting.site_id}")
    assert write.fields == {"network_id": meeting.network_id, "site_id": meeting.site_id}


async def test_names_keep_the_latest_of_each_id() -> None:
    site, person = example_of(SiteNamedV1), example_of(PersonNamedV1)
    renamed = site.model_copy(update={"data": site.data.model_copy(update={"name": "Lyon 3"})})
    model = InMemoryReadModel()

    for event, seq in ((site, 1), (person, 2), (renamed, 3), (site, 1)):
        await model.apply(writes_for(event, seq))

    names = {(d["kind"], d["id"]): d["name"] for d in model.collections["names"].values()}
    assert names == {
        ("site", site.data.site_id): "Lyon 3",
        ("person", person.data.person_id): person.data.name,
    }


async def test_problem_events_keep_the_latest_state_of_each_problem() -> None:
    opened, updated = example_of(ProblemOpenedV1), example_of(ProblemUpdatedV1)
    resolved = example_of(ProblemResolvedV1)
    model = InMemoryReadModel()

    for event, seq in ((opened, 1), (updated, 2), (opened, 1), (resolved, 3), (updated, 2)):
        await model.apply(writes_for(event, seq))

    (problem,) = model.collections["problems"].values()
    assert problem["problem_id"] == opened.data.problem_id
    assert problem["site_id"] == "lyon-part-dieu"
    assert problem["degradation_ids"] == ["deg-2025-0007"]  # the update's, not the opening's
    assert problem["complaint_ids"] == ["rec-2025-012"]
    assert problem["open"] is False
    assert problem["resolved_at"] == resolved.data.resolved_at
