"""What one input event adds to which aggregates. Pure: no I/O, no framework.

An aggregate is one scope over one period. Its figures are integer counters addressed by
dotted paths (``dims.platform.count``, ``roles.learner.nps.promoters``, ``complaints``…):
storage only ever adds them up, so updates are single-document ``$inc`` and exact.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from boucle_analyzer.domain.ratings import MILLI, is_satisfied, to_five_point, to_milli
from boucle_contracts.common import Period, TrainingRef
from boucle_contracts.feedback.v1 import NpsAnswer, ScaleAnswer, SurveyResponseSubmitted
from boucle_contracts.incidents.v1 import ComplaintReceived, HazardReported
from boucle_contracts.metrics.v1 import DimensionFigures, Granularity, metrics_key
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.training.v1 import DropoutRecorded, EnrolmentRecorded, SessionCompleted

OVERALL = "overall"


@dataclass(frozen=True, slots=True)
class DimensionDelta:
    """Exact integer sums: ratings in thousandths of a point, squares in millionths."""

    count: int
    total_milli: int
    squares_micro: int
    satisfied: int

    @property
    def total(self) -> float:
        return self.total_milli / MILLI

    @property
    def total_squares(self) -> float:
        return self.squares_micro / (MILLI * MILLI)


@dataclass(frozen=True, slots=True)
class AggregateDelta:
    """Increments to one aggregate: a scope over one period."""

    scope: Scope
    granularity: Granularity
    period: Period
    responses: int = 0
    dimensions: dict[str, DimensionDelta] = field(default_factory=dict)
    counters: Mapping[str, int] = field(default_factory=dict)  # other dotted paths

    @property
    def key(self) -> str:
        return metrics_key(self.scope, self.granularity, self.period)

    def increments(self) -> dict[str, int]:
        """Every counter this delta adds, by dotted path (responses and dimensions included)."""
        paths: dict[str, int] = {"responses": self.responses} if self.responses else {}
        for name, dim in self.dimensions.items():
            paths |= dimension_paths(f"dims.{name}.", dim)
        for path, value in self.counters.items():
            paths[path] = paths.get(path, 0) + value
        return paths


def dimension_paths(prefix: str, dim: DimensionDelta) -> dict[str, int]:
    return {
        f"{prefix}count": dim.count,
        f"{prefix}total_milli": dim.total_milli,
        f"{prefix}squares_micro": dim.squares_micro,
        f"{prefix}satisfied": dim.satisfied,
    }


def figures_of(dimension: str, sums: DimensionDelta) -> DimensionFigures:
    """The contract's view of a dimension's exact sums."""
    return DimensionFigures(
        dimension=dimension,
        count=sums.count,
        total=sums.total,
        total_squares=sums.total_squares,
        satisfied=sums.satisfied,
    )


def period_of(moment: datetime, granularity: Granularity) -> Period:
    """Calendar period in UTC: day, ISO week (from Monday) or month."""
    moment = moment.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if granularity is Granularity.DAY:
        return Period(start=day, end=day + timedelta(days=1))
    if granularity is Granularity.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(start=start, end=start + timedelta(days=7))
    start = day.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return Period(start=start, end=end)


def scopes_of(
    network_id: str, site_id: str | None, response: SurveyResponseSubmitted
) -> list[Scope]:
    """Network, site, programme within the site, and each trainer within the network."""
    return scopes_for(network_id, site_id, response.training)


def scopes_for(network_id: str, site_id: str | None, training: TrainingRef) -> list[Scope]:
    scopes = [Scope(level=ScopeLevel.NETWORK, network_id=network_id)]
    if site_id:
        scopes.append(Scope(level=ScopeLevel.SITE, network_id=network_id, site_id=site_id))
        if training.programme_id:
            scopes.append(
                Scope(
                    level=ScopeLevel.PROGRAMME,
                    network_id=network_id,
                    site_id=site_id,
                    programme_id=training.programme_id,
                )
            )
    scopes += [
        Scope(level=ScopeLevel.TRAINER, network_id=network_id, trainer_id=trainer)
        for trainer in dict.fromkeys(training.trainer_ids)
    ]
    return scopes


def dimension_deltas(response: SurveyResponseSubmitted) -> dict[str, DimensionDelta]:
    """Each rated answer counts once for its dimension ("overall" when the form gave none)."""
    ratings: dict[str, list[int]] = defaultdict(list)
    for answer in response.answers:
        if isinstance(answer, ScaleAnswer):
            ratings[answer.dimension or OVERALL].append(to_milli(to_five_point(answer)))
    return {
        dimension: DimensionDelta(
            count=len(values),
            total_milli=sum(values),
            squares_micro=sum(v * v for v in values),
            satisfied=sum(1 for v in values if is_satisfied(v / MILLI)),
        )
        for dimension, values in ratings.items()
    }


def nps_category(value: int) -> str:
    """Promoters answer 9-10, passives 7-8, detractors 0-6."""
    return "promoters" if value >= 9 else "passives" if value >= 7 else "detractors"


def _comment_counters(themes: Iterable[str], negative_comments: int) -> Counter[str]:
    counters = Counter(f"themes.{theme}" for theme in themes)
    if negative_comments:
        counters["negative_comments"] = negative_comments
    return counters


def response_counters(
    response: SurveyResponseSubmitted, themes: Iterable[str] = (), negative_comments: int = 0
) -> dict[str, int]:
    """NPS, the respondent role's figures, and the themes of the response's negative comments.

    ``themes`` holds one entry per negative comment and theme it complains about.
    """
    role = f"roles.{response.respondent_role.value}."
    counters = _comment_counters(themes, negative_comments)
    counters[f"{role}responses"] = 1
    for answer in response.answers:
        if isinstance(answer, NpsAnswer):
            category = nps_category(answer.value)
            counters[f"nps.{category}"] += 1
            counters[f"{role}nps.{category}"] += 1
    overall = dimension_deltas(response).get(OVERALL)
    if overall is not None:
        counters.update(dimension_paths(role, overall))
    return dict(counters)


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one input event adds, before it is spread over scopes and periods."""

    at: datetime
    training: TrainingRef
    responses: int = 0
    dimensions: dict[str, DimensionDelta] = field(default_factory=dict)
    counters: Mapping[str, int] = field(default_factory=dict)


def complaint_contribution(
    complaint: ComplaintReceived, themes: Iterable[str] = (), negative: bool = True
) -> Contribution:
    """A complaint's text counts with the negative comments (a complaint is one)."""
    counters = _comment_counters(themes, 1 if negative else 0)
    counters.update(["complaints", f"complaints_by_role.{complaint.complainant_role.value}"])
    return Contribution(at=complaint.received_at, training=complaint.training, counters=counters)


def hazard_contribution(hazard: HazardReported) -> Contribution:
    return Contribution(at=hazard.occurred_at, training=hazard.training, counters={"hazards": 1})


def enrolment_contribution(enrolment: EnrolmentRecorded) -> Contribution:
    return Contribution(
        at=enrolment.enrolled_at, training=enrolment.training, counters={"enrolments": 1}
    )


def completion_contribution(session: SessionCompleted) -> Contribution:
    return Contribution(
        at=session.completed_at,
        training=TrainingRef(
            programme_id=session.programme_id,
            session_id=session.session_id,
            trainer_ids=session.trainer_ids,
        ),
        counters={"sessions_completed": 1, "learners_completed": session.learners_completed},
    )


def dropout_contribution(dropout: DropoutRecorded) -> Contribution:
    return Contribution(
        at=dropout.dropped_at,
        training=dropout.training,
        counters={"dropouts": 1, f"dropout_reasons.{dropout.reason.value}": 1},
    )


def response_contribution(
    response: SurveyResponseSubmitted, themes: Iterable[str] = (), negative_comments: int = 0
) -> Contribution:
    return Contribution(
        at=response.submitted_at,
        training=response.training,
        responses=1,
        dimensions=dimension_deltas(response),
        counters=response_counters(response, themes, negative_comments),
    )


def spread(
    network_id: str,
    site_id: str | None,
    contribution: Contribution,
    granularities: tuple[Granularity, ...] = tuple(Granularity),
) -> list[AggregateDelta]:
    """One delta per scope the event belongs to and per granularity."""
    return [
        AggregateDelta(
            scope=scope,
            granularity=granularity,
            period=period_of(contribution.at, granularity),
            responses=contribution.responses,
            dimensions=contribution.dimensions,
            counters=contribution.counters,
        )
        for scope in scopes_for(network_id, site_id, contribution.training)
        for granularity in granularities
    ]


def deltas_for(
    network_id: str,
    site_id: str | None,
    response: SurveyResponseSubmitted,
    granularities: tuple[Granularity, ...] = tuple(Granularity),
) -> list[AggregateDelta]:
    return spread(network_id, site_id, response_contribution(response), granularities)
