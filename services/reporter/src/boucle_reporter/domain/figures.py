"""The figures the improvement report and the dashboard show. Pure."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from boucle_contracts.common import RespondentRole
from boucle_reporter.domain.read_model import PackData, SiteMonth

SEVERITY_WEIGHT = {"low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True, slots=True)
class RoleRate:
    """Respondents of a stakeholder type over the people solicited to answer.

    The read model knows responses, enrolments and completions, not how many people were
    asked: ``solicited`` is None then, and so is the rate (said in words, never computed
    over something else). Respondents beyond the people solicited mean the counts disagree:
    no rate either, rather than a rate above 100 %.
    """

    role: str
    responses: int
    solicited: int | None = None

    @property
    def rate(self) -> float | None:
        if not self.solicited or self.responses > self.solicited:
            return None
        return self.responses / self.solicited

    @property
    def unknown_reason(self) -> str | None:
        """Why there is no rate (a message key), or None when there is one."""
        if self.solicited is None:
            return "rep.rate_unknown_solicited"
        if self.solicited == 0 or self.responses > self.solicited:
            return "rep.rate_inconsistent"
        return None


@dataclass(slots=True)
class ReportFigures:
    months: list[str]
    satisfaction: dict[str, list[float | None]]  # dimension -> mean per month
    action_marks: list[tuple[date, date | None]]  # (start, end) of each action
    response_rates: list[RoleRate]
    complaints_by_category: Counter[str]
    dropouts_by_reason: Counter[str]
    actions_by_status: Counter[str]
    outcomes: Counter[str]
    incidents_by_kind: Counter[str]
    difficulties: list[tuple[date, str, str]]  # (date, site, summary)
    totals: dict[str, int] = field(default_factory=dict)
    open_actions: int = 0
    late_actions: int = 0
    open_degradations: int = 0
    ineffective: int = 0


def _totals_by_month(data: PackData) -> dict[str, dict[str, tuple[int, float]]]:
    sums: dict[str, dict[str, tuple[int, float]]] = defaultdict(dict)
    for analysis in data.analyses:
        for figures in analysis.dimensions:
            count, total = sums[figures.dimension].get(analysis.month, (0, 0.0))
            sums[figures.dimension][analysis.month] = (
                count + figures.count,
                total + figures.total,
            )
    return sums


def satisfaction_series(data: PackData) -> dict[str, list[float | None]]:
    """Mean per dimension and month over the scope's sites, from exact sums."""
    months = data.request.months
    series: dict[str, list[float | None]] = {}
    for dimension, by_month in sorted(_totals_by_month(data).items()):
        values = [
            (total / count) if count else None
            for count, total in (by_month.get(m, (0, 0.0)) for m in months)
        ]
        if any(v is not None for v in values):
            series[dimension] = values
    return series


def merged_counts(site_months: list[SiteMonth]) -> SiteMonth:
    merged = SiteMonth(site_id=None, month="")
    for site_month in site_months:
        merged.merge(site_month)
    return merged


def response_rates(data: PackData, counts: SiteMonth) -> list[RoleRate]:
    """Answered ÷ asked per stakeholder type where the surveys service says who was asked;
    elsewhere the respondents only, the rate unknown (enrolments are not solicitations)."""
    rates = []
    for role in RespondentRole:
        asked = data.collection.by_role.get(role.value)
        if asked is not None and asked.asked:
            rates.append(RoleRate(role.value, asked.answered, asked.asked))
        else:
            rates.append(RoleRate(role.value, counts.responses_by_role.get(role.value, 0)))
    return rates


def report_figures(data: PackData, today: date) -> ReportFigures:
    counts = merged_counts(data.site_months)
    complaint_categories: Counter[str] = Counter()
    case_by_ref = {c.source_ref: c for c in data.cases if c.source == "complaint"}
    for complaint in data.complaints:
        case = case_by_ref.get(complaint.complaint_id)
        complaint_categories[
            (case.category if case else None) or complaint.category or "other"
        ] += 1
    for ref, case in case_by_ref.items():
        if all(c.complaint_id != ref for c in data.complaints):
            complaint_categories[case.category or "other"] += 1
    actions = data.actions
    return ReportFigures(
        months=data.request.months,
        satisfaction=satisfaction_series(data),
        action_marks=[
            (
                (a.started_at or a.created_at).date(),
                a.finished_at.date() if a.finished_at else None,
            )
            for a in actions
        ],
        response_rates=response_rates(data, counts),
        complaints_by_category=complaint_categories,
        dropouts_by_reason=Counter(counts.dropouts_by_reason),
        actions_by_status=Counter(a.stage for a in actions),
        outcomes=Counter(a.outcome for a in actions if a.outcome),
        incidents_by_kind=Counter(i.kind for i in data.incidents),
        difficulties=sorted(
            (i.occurred_at.date(), i.site_id or "", i.summary) for i in data.incidents
        ),
        totals={
            "responses": sum(counts.responses_by_role.values()),
            "enrolments": counts.enrolments,
            "dropouts": sum(counts.dropouts_by_reason.values()),
            "complaints": sum(complaint_categories.values()),
            "actions": len(actions),
            "effective": sum(1 for a in actions if a.outcome == "effective"),
        },
        open_actions=sum(1 for a in actions if a.open),
        late_actions=sum(1 for a in actions if _late(a.open, a.due_date, today)),
        open_degradations=sum(1 for d in data.degradations if d.open),
        ineffective=sum(1 for a in actions if a.outcome == "not_effective"),
    )


def _late(is_open: bool, due: date | None, today: date) -> bool:
    return is_open and due is not None and due < today


@dataclass(frozen=True, slots=True)
class SiteRisk:
    site_id: str
    score: int
    open_degradations: int
    overdue_cases: int
    late_actions: int
    satisfaction: float | None  # mean overall over the period


def site_risks(data: PackData, now: datetime) -> list[SiteRisk]:
    """Sites ranked by risk: open degradations (by severity), overdue complaints, late actions."""
    degradations: Counter[str] = Counter()
    severity: Counter[str] = Counter()
    for d in data.degradations:
        if d.open and d.site_id:
            degradations[d.site_id] += 1
            severity[d.site_id] += SEVERITY_WEIGHT.get(d.severity, 1)
    overdue: Counter[str] = Counter()
    for case in data.cases:
        unanswered = case.answered_at is None and case.status not in {"answered", "closed"}
        past_due = case.answer_due_at is not None and case.answer_due_at < now
        if case.site_id and unanswered and (past_due or case.overdue):
            overdue[case.site_id] += 1
    late: Counter[str] = Counter(
        a.site_id for a in data.actions if a.site_id and _late(a.open, a.due_date, now.date())
    )
    sums: dict[str, tuple[int, float]] = {}
    for analysis in data.analyses:
        overall = analysis.figures("overall")
        if analysis.site_id and overall:
            count, total = sums.get(analysis.site_id, (0, 0.0))
            sums[analysis.site_id] = (count + overall.count, total + overall.total)
    risks = [
        SiteRisk(
            site_id=site,
            score=3 * severity[site] + 2 * overdue[site] + late[site],
            open_degradations=degradations[site],
            overdue_cases=overdue[site],
            late_actions=late[site],
            satisfaction=(sums[site][1] / sums[site][0]) if sums.get(site, (0, 0))[0] else None,
        )
        for site in data.sites
    ]
    return sorted(risks, key=lambda r: (-r.score, r.satisfaction or 5.0, r.site_id))
