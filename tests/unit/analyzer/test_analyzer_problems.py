"""Grouping degradations into problems: one cause, one problem, at the most specific scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from boucle_analyzer.domain.problems import (
    Member,
    Problem,
    ProblemChange,
    attributed_scopes,
    group_week,
    problem_id,
    state,
)
from boucle_contracts.common import Period
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation, Severity, ThemeShare

NET = "net-1"
WEEK0 = datetime(2025, 3, 10, tzinfo=UTC)
WEEK = timedelta(days=7)
_PERIOD = Period(start=WEEK0, end=WEEK0 + WEEK)


def _obs(value: float) -> Observation:
    return Observation(value=value, sample_size=40, period=_PERIOD)


def member(
    name: str,
    level: ScopeLevel,
    *,
    site: str | None = None,
    dimension: str | None = "overall",
    theme: str | None = "platform",
    metric: Metric = Metric.MEAN_SATISFACTION,
    severity: Severity = Severity.HIGH,
    week: datetime = WEEK0,
    sites: tuple[str, ...] | None = None,
    trainer: str | None = None,
    examples: tuple[str, ...] = (),
) -> Member:
    scope = Scope(
        level=level,
        network_id=NET,
        site_id=site if level in (ScopeLevel.SITE, ScopeLevel.PROGRAMME) else None,
        programme_id="prog-1" if level is ScopeLevel.PROGRAMME else None,
        trainer_id=trainer if level is ScopeLevel.TRAINER else None,
    )
    if sites is None:
        sites = (site,) if site is not None and level is not ScopeLevel.TRAINER else ()
    return Member(
        degradation_id=name,
        scope=scope,
        metric=metric,
        dimension=dimension,
        opened_week=week,
        baseline=_obs(4.2),
        current=_obs(2.9),
        severity=severity,
        sites=sites,
        themes=(ThemeShare(theme=theme, share=0.7, comment_count=7),) if theme else (),
        example_comment_ids=examples,
    )


def _week(
    opened: list[Member],
    problems: list[Problem] | None = None,
    *,
    week: datetime = WEEK0,
    resolved: tuple[str, ...] = (),
) -> list[ProblemChange]:
    return group_week(problems or [], network_id=NET, week=week, opened=opened, resolved=resolved)


def _after(changes: list[ProblemChange]) -> list[Problem]:
    return [c.problem for c in changes if c.problem.open]


def test_one_drop_seen_at_site_programme_trainer_and_network_is_one_site_problem() -> None:
    opened = [
        member("net-overall", ScopeLevel.NETWORK),
        member("net-platform", ScopeLevel.NETWORK, dimension="platform"),
        member("trainer-overall", ScopeLevel.TRAINER, trainer="fmt-1", sites=("lyon",)),
        member("prog-platform", ScopeLevel.PROGRAMME, site="lyon", dimension="platform"),
        member("site-overall", ScopeLevel.SITE, site="lyon", severity=Severity.MEDIUM),
        member("site-platform", ScopeLevel.SITE, site="lyon", dimension="platform"),
        member("site-nps", ScopeLevel.SITE, site="lyon", dimension=None, metric=Metric.NPS),
    ]

    changes = _week(opened)

    assert [c.kind for c in changes] == ["opened"]
    (problem,) = _after(changes)
    assert len(problem.members) == len(opened)
    assert problem.scopes() == (Scope(level=ScopeLevel.SITE, network_id=NET, site_id="lyon"),)
    assert problem.problem_id == problem_id(NET, "site-platform")  # the site anchors it
    assert problem.main.degradation_id == "site-platform"


def test_two_sites_in_the_same_weeks_with_the_same_theme_are_one_multi_site_problem() -> None:
    opened = [
        member("lyon-platform", ScopeLevel.SITE, site="lyon", dimension="platform"),
        member("lyon-overall", ScopeLevel.SITE, site="lyon"),
        member("nice-platform", ScopeLevel.SITE, site="nice", dimension="platform"),
        member("nice-overall", ScopeLevel.SITE, site="nice", week=WEEK0),
        member("net-platform", ScopeLevel.NETWORK, dimension="platform"),
    ]

    (problem,) = _after(_week(opened))

    assert {s.site_id for s in problem.scopes()} == {"lyon", "nice"}
    assert len(problem.members) == 5


def test_a_site_a_week_later_joins_even_when_the_first_site_is_named_by_its_programme() -> None:
    first = [
        member("paris-prog", ScopeLevel.PROGRAMME, site="paris", severity=Severity.CRITICAL),
        member("paris-platform", ScopeLevel.SITE, site="paris", dimension="platform"),
    ]
    (paris,) = _after(_week(first))
    later = WEEK0 + WEEK

    changes = _week(
        [member("lyon-platform", ScopeLevel.SITE, site="lyon", dimension="platform", week=later)],
        [paris],
        week=later,
    )

    (change,) = changes
    assert (change.kind, change.joined) == ("updated", ("lyon-platform",))
    assert {s.site_id for s in change.problem.scopes()} == {"lyon", "paris"}


def test_two_sites_with_different_themes_are_two_problems() -> None:
    opened = [
        member("lyon-platform", ScopeLevel.SITE, site="lyon", dimension="platform"),
        member("nice-trainer", ScopeLevel.SITE, site="nice", dimension="trainer", theme="trainer"),
    ]

    problems = _after(_week(opened))

    assert sorted(p.scopes()[0].site_id or "" for p in problems) == ["lyon", "nice"]


def test_sites_with_the_same_theme_weeks_apart_are_two_problems() -> None:
    (lyon,) = _after(_week([member("lyon", ScopeLevel.SITE, site="lyon")]))
    later = WEEK0 + 3 * WEEK

    changes = _week([member("nice", ScopeLevel.SITE, site="nice", week=later)], [lyon], week=later)

    assert [c.kind for c in changes] == ["opened"]


def test_sites_with_the_same_theme_but_different_dimensions_are_two_problems() -> None:
    # overall satisfaction is related to every dimension within a site, not across sites
    opened = [
        member("lyon-platform", ScopeLevel.SITE, site="lyon", dimension="platform"),
        member("nice-overall", ScopeLevel.SITE, site="nice", dimension="overall"),
    ]

    problems = _after(_week(opened))

    assert sorted(p.scopes()[0].site_id or "" for p in problems) == ["lyon", "nice"]


def test_sites_with_the_same_drop_a_week_apart_each_join_one_problem() -> None:
    # one cause at three sites, found a week apart each (detection delays differ by site)
    weeks = [WEEK0 + n * WEEK for n in range(3)]
    problems: list[Problem] = []
    for week, site in zip(weeks, ("lyon", "nice", "metz"), strict=True):
        drop = member(
            f"{site}-platform", ScopeLevel.SITE, site=site, dimension="platform", week=week
        )
        changes = _week([drop], problems, week=week)
        problems = [
            *[p for p in problems if p.problem_id not in {c.problem.problem_id for c in changes}],
            *_after(changes),
        ]

    (problem,) = problems
    assert {s.site_id for s in problem.scopes()} == {"lyon", "nice", "metz"}


def test_a_trainer_working_at_one_site_is_part_of_the_site_problem() -> None:
    opened = [
        member("site-trainer", ScopeLevel.SITE, site="nice", dimension="trainer", theme="trainer"),
        member(
            "fmt-trainer",
            ScopeLevel.TRAINER,
            trainer="fmt-nice",
            sites=("nice",),
            dimension="trainer",
            theme="trainer",
        ),
    ]

    (problem,) = _after(_week(opened))

    assert problem.scopes() == (Scope(level=ScopeLevel.SITE, network_id=NET, site_id="nice"),)


def test_a_trainer_drop_alone_is_attributed_to_the_trainer_at_their_site() -> None:
    alone = member("fmt", ScopeLevel.TRAINER, trainer="fmt-nice", sites=("nice",))

    assert attributed_scopes(NET, [alone]) == (
        Scope(level=ScopeLevel.TRAINER, network_id=NET, trainer_id="fmt-nice", site_id="nice"),
    )


def test_a_trainer_of_unknown_sites_stays_apart_from_a_site_problem() -> None:
    opened = [
        member("site", ScopeLevel.SITE, site="nice", dimension="trainer", theme="trainer"),
        member("fmt", ScopeLevel.TRAINER, trainer="fmt-x", dimension="trainer", theme="trainer"),
    ]

    assert len(_after(_week(opened))) == 2


def test_a_network_drop_no_site_explains_is_a_network_problem() -> None:
    (problem,) = _after(_week([member("net", ScopeLevel.NETWORK)]))

    assert problem.scopes() == (Scope(level=ScopeLevel.NETWORK, network_id=NET),)


def test_a_later_site_drop_takes_over_a_network_problem() -> None:
    (network,) = _after(_week([member("net", ScopeLevel.NETWORK)]))
    later = WEEK0 + WEEK

    changes = _week(
        [member("lyon", ScopeLevel.SITE, site="lyon", week=later)], [network], week=later
    )

    (change,) = changes
    assert change.kind == "updated"
    assert change.joined == ("lyon",)
    assert change.problem.scopes()[0].site_id == "lyon"


def test_unrelated_dimensions_at_one_site_are_two_problems() -> None:
    opened = [
        member("platform", ScopeLevel.SITE, site="lyon", dimension="platform", theme="platform"),
        member("content", ScopeLevel.SITE, site="lyon", dimension="content", theme="content"),
    ]

    assert len(_after(_week(opened))) == 2


def test_a_problem_is_updated_while_degradations_leave_and_resolved_when_none_is_left() -> None:
    (problem,) = _after(
        _week(
            [
                member("platform", ScopeLevel.SITE, site="lyon", dimension="platform"),
                member("overall", ScopeLevel.SITE, site="lyon"),
            ]
        )
    )

    (updated,) = _week([], [problem], week=WEEK0 + 2 * WEEK, resolved=("overall",))
    (resolved,) = _week([], [updated.problem], week=WEEK0 + 3 * WEEK, resolved=("platform",))

    assert (updated.kind, updated.left) == ("updated", ("overall",))
    assert updated.problem.open
    assert (resolved.kind, resolved.left) == ("resolved", ("platform",))
    assert resolved.problem.resolved_week == WEEK0 + 3 * WEEK
    assert resolved.left_members[0].degradation_id == "platform"


def test_grouping_a_week_again_changes_nothing() -> None:
    opened = [member("platform", ScopeLevel.SITE, site="lyon", dimension="platform")]
    (problem,) = _after(_week(opened))

    assert _week(opened, [problem]) == []


def test_the_state_names_scopes_themes_examples_and_related_complaints() -> None:
    opened = [
        member("site", ScopeLevel.SITE, site="lyon", dimension="platform", examples=("c1", "c2")),
        member("prog", ScopeLevel.PROGRAMME, site="lyon", examples=("c2", "c3", "c4")),
        member("net", ScopeLevel.NETWORK, examples=("c5", "c6")),
    ]
    (problem,) = _after(_week(opened))

    data = state(problem, examples=("c7",), complaint_ids=("rec-1", "rec-1"))

    assert data.degradation_ids[0] == "site"
    assert set(data.degradation_ids) == {"site", "prog", "net"}
    assert data.example_comment_ids == ("c1", "c2", "c3", "c4", "c5")
    assert data.complaint_ids == ("rec-1",)
    assert data.themes[0].theme == "platform"
    assert data.severity is Severity.HIGH
    assert data.detected_at == WEEK0 + WEEK
    assert data.dimensions == ("overall", "platform")
