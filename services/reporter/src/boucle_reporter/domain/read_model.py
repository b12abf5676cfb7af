"""The read model as a build reads it: typed views of its documents, and a build's data.

The views are made from documents by ``view_builders``; the documents are written by
``projection``. Pure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from boucle_contracts.metrics.v1 import DimensionFigures
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.collection import Collection


def month_of(moment: datetime | date) -> str:
    """``YYYY-MM`` of a moment (UTC) or a date."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    title: str | None = None
    role: str | None = None


@dataclass(slots=True)
class Names:
    """What the network calls its sites, programmes and people (its referential); an id
    with no name known reads as itself."""

    sites: dict[str, str] = field(default_factory=dict)
    programmes: dict[str, str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    def site(self, site_id: str | None) -> str:
        return self.sites.get(site_id, site_id) if site_id else ""

    def programme(self, programme_id: str) -> str:
        return self.programmes.get(programme_id, programme_id)

    def person(self, person_id: str | None, role_words: str = "") -> str:
        """``Claire Martin (Responsable qualité)``: the name, and the title (else the role
        in words) of the person; the id when the referential does not name them."""
        if not person_id:
            return ""
        known = self.people.get(person_id)
        if known is None:
            return person_id
        what = known.title or role_words
        return f"{known.name} ({what})" if what else known.name


@dataclass(frozen=True, slots=True)
class Kpi:
    """An action's indicator of success: the metric (on a dimension) from baseline to target."""

    metric: str
    target: float
    dimension: str | None = None
    baseline: float | None = None


@dataclass(frozen=True, slots=True)
class Effect:
    """An evaluation's figures: the KPI before and after, with their sample sizes."""

    metric: str
    before: float
    before_n: int
    after: float
    after_n: int
    p_value: float | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    who: str
    when: datetime
    how: str


@dataclass(frozen=True, slots=True)
class MeetingView:
    meeting_id: str
    site_id: str | None
    held_at: datetime
    title: str
    decisions: tuple[str, ...] = ()
    attendees: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionView:
    action_id: str
    site_id: str | None
    title: str
    problem: str
    origin: str
    source_kinds: tuple[str, ...]
    source_refs: tuple[str, ...]
    status: str
    created_at: datetime
    owner: str | None = None
    due_date: date | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    analysis: str = ""
    kpi: str = ""
    outcome: str | None = None
    evaluated_at: datetime | None = None
    evaluation: str = ""
    # what people wrote, and links (contracts 1.1): empty from older producers
    measures: tuple[str, ...] = ()
    objective: str = ""
    root_cause_analysis: str = ""  # written by a person (``analysis`` may be generated)
    figures: str = ""  # generated: the degradations' figures in words
    target: Kpi | None = None
    validated_by: str | None = None
    validated_at: datetime | None = None
    stakeholders: tuple[Notice, ...] = ()
    case_ids: tuple[str, ...] = ()
    meeting_id: str | None = None
    effect: Effect | None = None

    @property
    def finished(self) -> bool:
        return self.status in {"done", "effective", "not_effective"}

    @property
    def stage(self) -> str:
        """The status as a stage of the work: "effective" and "not effective" are results
        of an evaluation (the outcome), the stage is "done"."""
        return "done" if self.status in {"effective", "not_effective"} else self.status

    @property
    def open(self) -> bool:
        return self.status not in {"done", "effective", "not_effective", "cancelled"}

    @property
    def validation_current(self) -> bool:
        """Whether the plan as it stands was validated (a re-worked plan is validated
        again: back to a proposal or re-opened, the earlier validation no longer holds)."""
        return self.validated_at is not None and self.status not in {
            "draft",
            "proposed",
            "reopened",
        }


@dataclass(frozen=True, slots=True)
class CaseView:
    case_id: str
    site_id: str | None
    source: str  # complaint, hazard, difficulty
    source_ref: str
    opened_at: datetime
    summary: str
    status: str
    category: str | None = None
    acknowledge_due_at: datetime | None = None
    answer_due_at: datetime | None = None
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    root_cause: str = ""
    answer: str = ""
    action_ids: tuple[str, ...] = ()
    overdue: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComplaintView:
    complaint_id: str
    site_id: str | None
    received_at: datetime
    channel: str
    complainant_role: str
    subject: str
    category: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident_id: str
    site_id: str | None
    kind: str  # hazard, difficulty
    occurred_at: datetime
    summary: str
    category: str | None = None


@dataclass(frozen=True, slots=True)
class DegradationView:
    degradation_id: str
    site_id: str | None
    metric: str
    dimension: str | None
    severity: str
    detected_at: datetime
    baseline: float
    current: float
    resolved_at: datetime | None = None
    themes: tuple[str, ...] = ()
    baseline_n: int | None = None
    current_n: int | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class AnalysisView:
    """A site's (or the network's) figures for one month: latest revision."""

    site_id: str | None
    month: str
    responses: int
    dimensions: tuple[DimensionFigures, ...] = ()

    def figures(self, dimension: str) -> DimensionFigures | None:
        return next((d for d in self.dimensions if d.dimension == dimension), None)


@dataclass(slots=True)
class SiteMonth:
    """Counts for one site and month, from feedback and training events (never raw rows)."""

    site_id: str | None
    month: str
    responses_by_role: Counter[str] = field(default_factory=Counter)
    enrolments: int = 0
    dropouts_by_reason: Counter[str] = field(default_factory=Counter)
    funders: set[str] = field(default_factory=set)
    companies: set[str] = field(default_factory=set)
    trainers: set[str] = field(default_factory=set)
    learners_completed: int = 0

    def merge(self, other: SiteMonth) -> None:
        self.responses_by_role.update(other.responses_by_role)
        self.enrolments += other.enrolments
        self.dropouts_by_reason.update(other.dropouts_by_reason)
        self.funders |= other.funders
        self.companies |= other.companies
        self.trainers |= other.trainers
        self.learners_completed += other.learners_completed


@dataclass(slots=True)
class PackData:
    """Everything one build reads from the read model, already cut to its scope and period."""

    request: BuildRequest
    generated_at: datetime
    sites: list[str] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)
    cases: list[CaseView] = field(default_factory=list)
    complaints: list[ComplaintView] = field(default_factory=list)
    incidents: list[IncidentView] = field(default_factory=list)
    degradations: list[DegradationView] = field(default_factory=list)
    analyses: list[AnalysisView] = field(default_factory=list)
    meetings: list[MeetingView] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    site_months: list[SiteMonth] = field(default_factory=list)
    # Last month with a funder's response per site, over the 12 months before the period's end.
    last_funder_feedback: dict[str, str] = field(default_factory=dict)
    # Degradations grouped by cause: every degradation ever in each problem.
    problem_groups: list[frozenset[str]] = field(default_factory=list)
    # The collection plan and who was asked (indicator 30), from the surveys service.
    collection: Collection = field(default_factory=Collection)
