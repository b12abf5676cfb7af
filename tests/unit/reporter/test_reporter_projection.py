"""The projection's table: which event feeds which read-model collection."""

from __future__ import annotations

import pytest
from bench.reporter.scenario import analysis

from boucle_contracts.actions.v1 import AnalysisMeetingRecordedV1
from boucle_contracts.examples import EXAMPLES, example_of
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemResolvedV1, ProblemUpdatedV1
from boucle_contracts.registry import ALL_EVENTS, AnyEvent
from boucle_reporter.adapters.memory import InMemoryReadModel
from boucle_reporter.domain.ports import COLLECTIONS
from boucle_reporter.domain.projection import WRITERS, writes_for

pytestmark = pytest.mark.unit


def test_every_event_type_but_meetings_has_a_writer() -> None:
    assert set(ALL_EVENTS) - set(WRITERS) == {AnalysisMeetingRecordedV1}


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


def test_an_event_without_a_writer_only_records_its_site() -> None:
    meeting = example_of(AnalysisMeetingRecordedV1)
    assert meeting.site_id

    (write,) = writes_for(meeting, 1)

    assert (write.collection, write.key) == ("sites", f"{meeting.network_id}|{meeting.site_id}")
    assert write.fields == {"network_id": meeting.network_id, "site_id": meeting.site_id}


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
