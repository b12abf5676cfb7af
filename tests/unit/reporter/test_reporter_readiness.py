"""The readiness check finds each gap an auditor would flag, and none where there is none."""

from __future__ import annotations

from datetime import date

import pytest
from bench.reporter.scenario import (
    CLEAN_SITE,
    GAP_SITE,
    GAPS,
    NETWORK,
    NOW,
    PERIOD,
    clean_events,
    degradation,
    gap_events,
    replayed,
)

from boucle_contracts.examples import example_of
from boucle_contracts.problems.v1 import ProblemOpenedV1, ProblemUpdatedV1
from boucle_contracts.registry import AnyEvent
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.read_model import PackData
from boucle_reporter.domain.readiness import readiness
from boucle_reporter.pack import load_pack

pytestmark = pytest.mark.unit


async def _data(
    events: list[AnyEvent],
    *,
    sites: tuple[str, ...] = (),
    start: date = PERIOD[0],
    end: date = PERIOD[1],
) -> PackData:
    _, read_model = await replayed(events)
    request = BuildRequest(network_id=NETWORK, start=start, end=end, sites=sites)
    return await load_pack(read_model, request, NOW)


async def test_complete_evidence_has_no_gap() -> None:
    data = await _data(clean_events())

    assert data.sites == [CLEAN_SITE]
    assert readiness(data) == []


async def test_each_gap_is_found_once() -> None:
    gaps = readiness(await _data(gap_events()))

    assert sorted((g.indicator, g.code, g.site, g.subject) for g in gaps) == sorted(GAPS)


async def test_an_auditor_sample_without_the_faulty_site_has_no_gap() -> None:
    assert readiness(await _data(gap_events(), sites=(CLEAN_SITE,))) == []


async def test_a_sampled_site_without_any_event_lacks_funder_feedback() -> None:
    gaps = readiness(await _data(clean_events(), sites=(CLEAN_SITE, "nice")))

    assert [(g.code, g.site) for g in gaps] == [("no_funder_feedback", "nice")]


async def test_funder_feedback_counts_for_twelve_months() -> None:
    """The funder answered in March 2025: enough until February 2026, not after."""
    until_february = await _data(clean_events(), start=date(2026, 2, 1), end=date(2026, 3, 1))
    until_april = await _data(clean_events(), start=date(2026, 3, 1), end=date(2026, 5, 1))

    assert until_february.last_funder_feedback == {CLEAN_SITE: "2025-03"}
    assert until_april.last_funder_feedback == {}
    assert ("no_funder_feedback", CLEAN_SITE) in [(g.code, g.site) for g in readiness(until_april)]


async def test_messages_exist_in_french_and_english() -> None:
    gaps = readiness(await _data(gap_events()))
    by_code = {g.code: g for g in gaps}

    assert by_code["complaint_unanswered"].message() == "Réclamation sans réponse"
    assert by_code["complaint_unanswered"].message("en") == "Complaint without an answer"
    assert {g.message("en") for g in gaps}.isdisjoint({g.message() for g in gaps})
    assert GAP_SITE in {g.site for g in gaps}


async def test_a_degradation_that_joined_an_addressed_problem_later_is_addressed() -> None:

    opened = example_of(ProblemOpenedV1)
    updated = example_of(ProblemUpdatedV1)

    def problem(cls: type, template: object, ids: tuple[str, ...], n: int) -> AnyEvent:
        data = template.data.model_copy(  # type: ignore[attr-defined]
            update={"problem_id": "prob-1", "degradation_ids": ids, "degradations": ()}
        )
        return cls.create(  # type: ignore[no-any-return, attr-defined]
            data=data, network_id=NETWORK, source="/tests", event_id=f"problem-{n}"
        )

    late = [
        problem(ProblemOpenedV1, opened, ("deg-1",), 1),
        degradation(CLEAN_SITE, "deg-late", 4),
        # deg-1 resolved meanwhile: the state lists the open one only.
        problem(ProblemUpdatedV1, updated, ("deg-late",), 2),
    ]
    gaps = readiness(await _data(clean_events() + late))
    assert gaps == []
    alone = readiness(await _data([*clean_events(), degradation(CLEAN_SITE, "deg-late", 4)]))
    assert [(g.code, g.subject) for g in alone] == [("degradation_no_action", "deg-late")]
