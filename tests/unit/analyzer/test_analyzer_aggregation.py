"""What one survey response adds to which aggregates: periods, scopes, dimension sums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from boucle_analyzer.domain.aggregation import (
    DimensionDelta,
    deltas_for,
    dimension_deltas,
    period_of,
    scopes_of,
)
from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.feedback.v1 import (
    Answer,
    ChoiceAnswer,
    NpsAnswer,
    ScaleAnswer,
    SurveyKind,
    SurveyResponseSubmitted,
    TextAnswer,
)
from boucle_contracts.metrics.v1 import Granularity
from boucle_contracts.scope import Scope, ScopeLevel

pytestmark = pytest.mark.unit

PARIS_WINTER = timezone(timedelta(hours=1))


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _scale(
    value: float, dimension: str | None = None, scale_min: int = 1, scale_max: int = 5
) -> ScaleAnswer:
    return ScaleAnswer(
        type="scale",
        question_id=f"q-{dimension or 'none'}-{value}",
        dimension=dimension,
        value=value,
        scale_min=scale_min,
        scale_max=scale_max,
    )


def _response(
    answers: tuple[Answer, ...] = (ScaleAnswer(type="scale", question_id="q", value=4),),
    *,
    programme_id: str | None = None,
    trainer_ids: tuple[str, ...] = (),
    submitted_at: datetime | None = None,
) -> SurveyResponseSubmitted:
    return SurveyResponseSubmitted(
        response_id="resp-1",
        survey_id="survey-1",
        survey_kind=SurveyKind.HOT,
        respondent_role=RespondentRole.LEARNER,
        submitted_at=submitted_at or _utc(2025, 3, 14, 16, 41),
        channel="api",
        training=TrainingRef(programme_id=programme_id, trainer_ids=trainer_ids),
        answers=answers,
    )


# --- period_of ------------------------------------------------------------------------


def test_a_day_runs_from_utc_midnight_to_the_next() -> None:
    period = period_of(_utc(2025, 3, 14, 16, 41), Granularity.DAY)

    assert (period.start, period.end) == (_utc(2025, 3, 14), _utc(2025, 3, 15))
    assert period.start.tzinfo == UTC


def test_the_day_is_the_utc_day_not_the_local_one() -> None:
    # 00:30 on 1 January in Paris is still 31 December in UTC.
    moment = datetime(2026, 1, 1, 0, 30, tzinfo=PARIS_WINTER)

    period = period_of(moment, Granularity.DAY)

    assert period.start == _utc(2025, 12, 31)
    assert period.start.tzinfo == UTC


@pytest.mark.parametrize(
    "moment",
    [
        _utc(2025, 3, 10),  # Monday, midnight: first instant of the week
        _utc(2025, 3, 12, 9, 30),  # Wednesday
        _utc(2025, 3, 16, 23, 59),  # Sunday, last minute
    ],
)
def test_a_week_starts_on_monday(moment: datetime) -> None:
    period = period_of(moment, Granularity.WEEK)

    assert (period.start, period.end) == (_utc(2025, 3, 10), _utc(2025, 3, 17))
    assert period.start.weekday() == 0


def test_the_next_monday_opens_a_new_week() -> None:
    assert period_of(_utc(2025, 3, 17), Granularity.WEEK).start == _utc(2025, 3, 17)


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (_utc(2026, 1, 1, 12), _utc(2025, 12, 29)),  # Thursday 1 January 2026
        (_utc(2026, 1, 4, 23, 59), _utc(2025, 12, 29)),  # Sunday of that week
        (_utc(2024, 12, 31, 8), _utc(2024, 12, 30)),  # Tuesday 31 December 2024
        (_utc(2021, 1, 3, 8), _utc(2020, 12, 28)),  # Sunday 3 January 2021 (ISO week 53)
    ],
)
def test_a_week_across_the_new_year_starts_on_the_monday_of_the_old_year(
    moment: datetime, monday: datetime
) -> None:
    period = period_of(moment, Granularity.WEEK)

    assert (period.start, period.end) == (monday, monday + timedelta(days=7))
    assert period.start.isocalendar().week == moment.isocalendar().week


@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        (_utc(2025, 3, 14, 16), _utc(2025, 3, 1), _utc(2025, 4, 1)),
        (_utc(2025, 1, 1), _utc(2025, 1, 1), _utc(2025, 2, 1)),
        (_utc(2024, 2, 29, 23, 59), _utc(2024, 2, 1), _utc(2024, 3, 1)),
        (_utc(2025, 12, 31, 23, 59), _utc(2025, 12, 1), _utc(2026, 1, 1)),
        (_utc(2025, 12, 1), _utc(2025, 12, 1), _utc(2026, 1, 1)),
    ],
)
def test_a_month_runs_from_its_first_day_to_the_next_month(
    moment: datetime, start: datetime, end: datetime
) -> None:
    period = period_of(moment, Granularity.MONTH)

    assert (period.start, period.end) == (start, end)


def test_december_ends_on_the_first_of_january_of_the_next_year() -> None:
    # New Year's Eve at 23:30 UTC, seen from Paris as already January.
    moment = datetime(2026, 1, 1, 0, 30, tzinfo=PARIS_WINTER)

    period = period_of(moment, Granularity.MONTH)

    assert (period.start, period.end) == (_utc(2025, 12, 1), _utc(2026, 1, 1))


@pytest.mark.parametrize("granularity", list(Granularity))
def test_every_period_contains_its_moment(granularity: Granularity) -> None:
    moment = _utc(2025, 12, 31, 23, 59)

    assert period_of(moment, granularity).contains(moment)


# --- scopes_of ------------------------------------------------------------------------


def test_a_response_counts_for_network_site_programme_and_each_trainer() -> None:
    response = _response(programme_id="prog-1", trainer_ids=("t-1", "t-2"))

    scopes = scopes_of("net-1", "site-a", response)

    assert scopes == [
        Scope(level=ScopeLevel.NETWORK, network_id="net-1"),
        Scope(level=ScopeLevel.SITE, network_id="net-1", site_id="site-a"),
        Scope(
            level=ScopeLevel.PROGRAMME, network_id="net-1", site_id="site-a", programme_id="prog-1"
        ),
        Scope(level=ScopeLevel.TRAINER, network_id="net-1", trainer_id="t-1"),
        Scope(level=ScopeLevel.TRAINER, network_id="net-1", trainer_id="t-2"),
    ]


def test_a_trainer_named_twice_is_counted_once() -> None:
    response = _response(trainer_ids=("t-1", "t-2", "t-1", "t-2", "t-3"))

    trainers = [s.trainer_id for s in scopes_of("net-1", "site-a", response)]

    assert trainers == [None, None, "t-1", "t-2", "t-3"]


def test_trainer_scopes_span_sites() -> None:
    response = _response(trainer_ids=("t-1",))

    in_lyon = scopes_of("net-1", "lyon", response)[-1]
    in_paris = scopes_of("net-1", "paris", response)[-1]

    assert in_lyon.site_id is None
    assert in_lyon.key() == in_paris.key()


def test_without_programme_there_is_no_programme_scope() -> None:
    levels = [s.level for s in scopes_of("net-1", "site-a", _response())]

    assert levels == [ScopeLevel.NETWORK, ScopeLevel.SITE]


def test_a_network_wide_response_has_neither_site_nor_programme_scope() -> None:
    response = _response(programme_id="prog-1", trainer_ids=("t-1",))

    levels = [s.level for s in scopes_of("net-1", None, response)]

    assert levels == [ScopeLevel.NETWORK, ScopeLevel.TRAINER]


def test_scope_keys_are_distinct() -> None:
    response = _response(programme_id="prog-1", trainer_ids=("t-1", "t-2"))

    keys = [s.key() for s in scopes_of("net-1", "site-a", response)]

    assert len(set(keys)) == len(keys) == 5


# --- dimension_deltas -----------------------------------------------------------------


def test_answers_without_dimension_count_as_overall() -> None:
    response = _response((_scale(4), _scale(2, "overall")))

    assert dimension_deltas(response) == {
        "overall": DimensionDelta(count=2, total_milli=6000, squares_micro=20000000, satisfied=1)
    }


def test_sums_and_squares_are_exact_per_dimension() -> None:
    response = _response(
        (
            _scale(5, "platform"),
            _scale(1, "platform"),
            _scale(2, "platform"),
            _scale(4, "trainer"),
            _scale(5, "trainer"),
            _scale(3),
        )
    )

    assert dimension_deltas(response) == {
        "platform": DimensionDelta(count=3, total_milli=8000, squares_micro=30000000, satisfied=1),
        "trainer": DimensionDelta(count=2, total_milli=9000, squares_micro=41000000, satisfied=2),
        "overall": DimensionDelta(count=1, total_milli=3000, squares_micro=9000000, satisfied=0),
    }


def test_ratings_are_summed_on_the_five_point_scale() -> None:
    response = _response(
        (_scale(10, "content", 0, 10), _scale(5, "content", 0, 10), _scale(1, "content", 1, 4))
    )

    # 10/10 -> 5, 5/10 -> 3, 1/4 -> 1
    assert dimension_deltas(response) == {
        "content": DimensionDelta(count=3, total_milli=9000, squares_micro=35000000, satisfied=1)
    }


def test_nps_choice_and_text_answers_are_not_ratings() -> None:
    response = _response(
        (
            NpsAnswer(type="nps", question_id="q-nps", dimension="overall", value=9),
            ChoiceAnswer(type="choice", question_id="q-choice", dimension="content", value=("a",)),
            TextAnswer(type="text", question_id="q-text", dimension="platform", value="lent"),
            _scale(2, "platform"),
        )
    )

    assert dimension_deltas(response) == {
        "platform": DimensionDelta(count=1, total_milli=2000, squares_micro=4000000, satisfied=0)
    }


def test_a_response_without_ratings_adds_no_dimension() -> None:
    response = _response((NpsAnswer(type="nps", question_id="q-nps", value=3),))

    assert dimension_deltas(response) == {}


# --- deltas_for -----------------------------------------------------------------------


def test_one_delta_per_scope_and_granularity_each_counting_one_response() -> None:
    response = _response(
        (_scale(4, "platform"), _scale(2)), programme_id="prog-1", trainer_ids=("t-1",)
    )

    deltas = deltas_for("net-1", "site-a", response)

    assert len(deltas) == 4 * 3
    assert len({d.key for d in deltas}) == 12
    assert all(d.responses == 1 for d in deltas)
    assert all(d.dimensions == dimension_deltas(response) for d in deltas)
    for delta in deltas:
        assert delta.period == period_of(response.submitted_at, delta.granularity)


def test_deltas_for_only_the_requested_granularities() -> None:
    deltas = deltas_for("net-1", "site-a", _response(), (Granularity.MONTH,))

    assert [d.granularity for d in deltas] == [Granularity.MONTH, Granularity.MONTH]
    assert deltas[0].period.start == _utc(2025, 3, 1)


def test_a_response_without_ratings_still_counts_as_a_response() -> None:
    response = _response((TextAnswer(type="text", question_id="q", value="RAS"),))

    deltas = deltas_for("net-1", "site-a", response)

    assert deltas
    assert all(d.responses == 1 and d.dimensions == {} for d in deltas)
