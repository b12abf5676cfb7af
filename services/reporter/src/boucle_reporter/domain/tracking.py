"""The improvement tracking table (tableau de suivi des mesures d'amélioration). Pure.

One row per **measure** taken (each text of an action's measures; an action with none has
one row saying so), linked to its sources and their references: complaints, hazards,
difficulties, degradations (survey analyses), the analysis meeting that decided it. Beside
them, one row per complaint, hazard or difficulty case with the answer given (the
correction, kept apart from the corrective action) and the measures that came of it, one
per analysis meeting with its decisions, and one per site's month of survey responses: an
auditor goes from any complaint to its measure and back. Sites and people are shown by
their names when the network's referential gives them. Column titles are French by
default: the table is handed to French auditors.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from boucle_reporter.domain.i18n import (
    day,
    decimal,
    has_message,
    label,
    metric_value,
    translate,
)
from boucle_reporter.domain.read_model import (
    ActionView,
    AnalysisView,
    CaseView,
    Effect,
    Kpi,
    MeetingView,
    Names,
)

COLUMN_KEYS = (
    "date",
    "site",
    "source",
    "reference",
    "observed",
    "analysis",
    "figures",
    "correction",
    "measure",
    "action",
    "objective",
    "owner",
    "validated_by",
    "validated_on",
    "due",
    "started",
    "finished",
    "status",
    "effectiveness",
    "informed",
)
DATE_COLUMNS = frozenset({"date", "validated_on", "due", "started", "finished"})


def columns(language: str = "fr") -> tuple[str, ...]:
    return tuple(translate(language, f"col.{key}") for key in COLUMN_KEYS)


COLUMNS = columns("fr")

Cell = str | dt.date | None


@dataclass(frozen=True, slots=True)
class TrackingRow:
    date: dt.date
    site: str
    source: str
    reference: str
    observed: str  # the finding: the figures, the complaint, the problem
    analysis: str = ""  # analysis of causes, as a person wrote it
    figures: str = ""  # the generated figures behind the finding
    correction: str = ""  # the answer given to the complainant
    measure: str = ""
    action: str = ""  # the improvement action(s): references both ways
    objective: str = ""
    owner: str = ""
    validated_by: str = ""
    validated_on: dt.date | None = None
    due: dt.date | None = None
    started: dt.date | None = None
    finished: dt.date | None = None
    status: str = ""
    effectiveness: str = ""
    informed: str = ""
    order: str = ""  # ties broken by the item and the measure's rank (not a column)

    def values(self) -> tuple[Cell, ...]:
        """Typed cells, dates as dates (for the spreadsheet)."""
        return tuple(getattr(self, key) for key in COLUMN_KEYS)

    def cells(self) -> tuple[str, ...]:
        """Text cells, dates in ISO 8601 (for the CSV)."""
        return tuple(_text(v) for v in self.values())

    def sort_key(self) -> tuple[dt.date, str, str, str]:
        return (self.date, self.site, self.reference, self.order)


def _day(moment: dt.datetime | None) -> dt.date | None:
    return moment.date() if moment else None


def _joined(items: Iterable[str]) -> str:
    return " ; ".join(dict.fromkeys(i for i in items if i))


def analysis_figures(responses: int, analysis: AnalysisView, language: str = "fr") -> str:
    figures = [translate(language, "analysis.figures", responses=responses)]
    overall = analysis.figures("overall")
    if overall and overall.mean is not None and overall.satisfaction_rate is not None:
        mean = decimal(overall.mean, language)
        rate = decimal(100 * overall.satisfaction_rate, language, 0)
        figures.append(translate(language, "analysis.mean", mean=mean))
        figures.append(translate(language, "analysis.rate", rate=rate))
    return ", ".join(figures)


def analysis_row(
    analysis: AnalysisView, language: str = "fr", names: Names | None = None
) -> TrackingRow:
    """A site's month of survey responses, summarised as an auditor reads it."""
    names = names or Names()
    year, month = (int(part) for part in analysis.month.split("-"))
    return TrackingRow(
        date=dt.date(year, month, 1),
        site=names.site(analysis.site_id),
        source=translate(language, "source.survey_analysis"),
        reference=f"analyse-{analysis.site_id}-{analysis.month}",
        observed=analysis_figures(analysis.responses, analysis, language),
        status=translate(language, "status.analysed_month"),
    )


def case_row(
    case: CaseView,
    language: str = "fr",
    actions: Sequence[ActionView] = (),
    names: Names | None = None,
) -> TrackingRow:
    """A complaint, hazard or difficulty: what was answered (the correction) and which
    measures came of it, if any (the corrective actions, by their references)."""
    names = names or Names()
    measures = [m for a in actions for m in a.measures] or [a.title for a in actions]
    none = "track.no_improvement" if case.answered_at or case.closed_at else ""
    return TrackingRow(
        date=case.opened_at.date(),
        site=names.site(case.site_id),
        source=translate(language, f"source.{case.source}"),
        reference=case.source_ref,
        observed=case.summary,
        analysis=case.root_cause,
        correction=case.answer,
        measure=_joined(measures) or (translate(language, none) if none else ""),
        action=", ".join(a.action_id for a in actions),
        due=_day(case.answer_due_at),
        started=_day(case.acknowledged_at),
        finished=_day(case.closed_at or case.answered_at),
        status=label(language, "status", case.status),
        order=case.case_id,
    )


def kpi_words(kpi: Kpi | None, language: str = "fr") -> str:
    """``Satisfaction moyenne (plateforme) : 3,39 → objectif 4,18``."""
    if kpi is None:
        return ""
    metric = label(language, "metric", kpi.metric, translate(language, "change.metric_other"))
    aspect = (
        f" ({label(language, 'dim', kpi.dimension, kpi.dimension).lower()})"
        if kpi.dimension
        else ""
    )
    target = metric_value(language, kpi.metric, kpi.target)
    if kpi.baseline is None:
        return translate(language, "track.kpi_target", metric=metric, aspect=aspect, target=target)
    baseline = metric_value(language, kpi.metric, kpi.baseline)
    return translate(
        language, "track.kpi", metric=metric, aspect=aspect, baseline=baseline, target=target
    )


def effect_words(outcome: str | None, effect: Effect | None, language: str = "fr") -> str:
    """``Efficace : 3,39 (n = 95) avant, 4,10 (n = 88) après``; the outcome alone when the
    figures are unknown."""
    words = label(language, "outcome", outcome)
    if effect is None or not words:
        return words
    return translate(
        language,
        "track.effect",
        outcome=words,
        before=metric_value(language, effect.metric, effect.before),
        before_n=effect.before_n,
        after=metric_value(language, effect.metric, effect.after),
        after_n=effect.after_n,
    )


def action_sources(
    action: ActionView, language: str, meetings: Mapping[str, MeetingView]
) -> tuple[str, str]:
    """The kinds of sources in words, and their references (the meeting by its date)."""
    sources = list(zip(action.source_kinds, action.source_refs, strict=False))
    kinds = [translate(language, f"source.{k}") for k, _ in sources if k != "meeting"]
    refs = [r for k, r in sources if k != "meeting"]
    meeting_id = action.meeting_id or next((r for k, r in sources if k == "meeting"), None)
    if meeting_id:
        kinds.append(translate(language, "source.meeting"))
        meeting = meetings.get(meeting_id)
        refs.append(
            translate(language, "track.meeting", day=day(meeting.held_at.date(), language))
            if meeting
            else meeting_id
        )
    if not kinds:
        kinds.append(label(language, "source", action.origin, translate(language, "source.manual")))
    return ", ".join(dict.fromkeys(kinds)), ", ".join(dict.fromkeys(refs))


def _notices(action: ActionView, language: str) -> str:
    return _joined(
        translate(language, "track.notice", who=n.who, how=n.how, when=day(n.when.date(), language))
        for n in action.stakeholders
    )


def measure_rows(
    action: ActionView,
    language: str = "fr",
    names: Names | None = None,
    meetings: Mapping[str, MeetingView] | None = None,
) -> list[TrackingRow]:
    """One row per measure of the action (one saying none was recorded if it has none)."""
    names = names or Names()
    # "Effective" is a result, not a status: the status column says the action was carried
    # out (its stage), the effectiveness column says how it went.
    result = action.status if action.stage != action.status else None
    outcome = action.outcome or result or ("none" if action.finished else None)
    # A re-opened (or not yet finished) action has no end: an earlier end date would say
    # it is over while its status says it is not.
    finished = _day(action.finished_at) if action.finished else None
    source, reference = action_sources(action, language, meetings or {})
    objective = _joined([action.objective, kpi_words(action.target, language)])
    validated = action.validation_current
    base = TrackingRow(
        date=action.created_at.date(),
        site=names.site(action.site_id),
        source=source,
        reference=reference,
        observed=action.problem,
        analysis=action.analysis,
        figures=action.figures,
        action=action.action_id,
        objective=objective,
        owner=names.person(action.owner, _role_words(names, action.owner, language)),
        validated_by=names.person(
            action.validated_by, _role_words(names, action.validated_by, language)
        )
        if validated
        else "",
        validated_on=_day(action.validated_at) if validated else None,
        due=action.due_date,
        started=_day(action.started_at),
        finished=finished,
        status=label(language, "status", action.stage),
        effectiveness=effect_words(outcome, action.effect, language),
        informed=_notices(action, language),
    )
    measures = action.measures or (translate(language, "track.no_measure"),)
    return [
        replace(base, measure=measure, order=f"{action.action_id}/{rank:03d}")
        for rank, measure in enumerate(measures)
    ]


def _role_words(names: Names, person_id: str | None, language: str) -> str:
    """A person's role in words, if the catalogue knows it (a network's own role: none)."""
    known = names.people.get(person_id) if person_id else None
    if known is None or not known.role or not has_message(language, f"person.{known.role}"):
        return ""
    return translate(language, f"person.{known.role}")


def action_row(action: ActionView, language: str = "fr") -> TrackingRow:
    """The first row of an action (its first measure)."""
    return measure_rows(action, language)[0]


def meeting_row(
    meeting: MeetingView,
    language: str = "fr",
    actions: Sequence[ActionView] = (),
    names: Names | None = None,
) -> TrackingRow:
    """An analysis meeting: what it decided, and the actions it led to."""
    names = names or Names()
    return TrackingRow(
        date=meeting.held_at.date(),
        site=names.site(meeting.site_id),
        source=translate(language, "source.meeting"),
        reference=translate(language, "track.meeting", day=day(meeting.held_at.date(), language)),
        observed=meeting.title,
        measure=_joined(meeting.decisions),
        action=", ".join(a.action_id for a in actions),
        status=translate(language, "status.held"),
        order=meeting.meeting_id,
    )


def tracking_rows(
    *,
    analyses: Iterable[AnalysisView],
    cases: Iterable[CaseView],
    actions: Sequence[ActionView],
    meetings: Sequence[MeetingView] = (),
    language: str = "fr",
    names: Names | None = None,
) -> list[TrackingRow]:
    names = names or Names()
    by_id = {a.action_id: a for a in actions}
    by_meeting: dict[str, list[ActionView]] = {}
    for action in actions:
        if action.meeting_id:
            by_meeting.setdefault(action.meeting_id, []).append(action)
    rows = [analysis_row(a, language, names) for a in analyses]
    for case in cases:
        linked = [by_id[i] for i in case.action_ids if i in by_id]
        # an action that names the case but that the case does not list yet
        linked += [a for a in actions if case.case_id in a.case_ids and a not in linked]
        # an action drafted for a problem names the complaint among its sources
        linked += [a for a in actions if case.source_ref in a.source_refs and a not in linked]
        rows.append(case_row(case, language, linked, names))
    meeting_by_id = {m.meeting_id: m for m in meetings}
    for action in actions:
        rows += measure_rows(action, language, names, meeting_by_id)
    rows += [meeting_row(m, language, by_meeting.get(m.meeting_id, ()), names) for m in meetings]
    return sorted(rows, key=TrackingRow.sort_key)


# A spreadsheet reads a cell that begins with one of these as a formula (=HYPERLINK(…),
# +cmd|…, @SUM(…)); a tab or carriage return first hides one from a quick look.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """Text that no spreadsheet runs: a leading apostrophe before a formula character."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: object, language: str = "fr") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | int):
        # a number is written by us, never by a user: "-1,5" stays a number
        return decimal(value, language) if isinstance(value, float) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralised(str(value))


def rows_to_csv(
    header: Sequence[str], rows: Iterable[Sequence[object]], language: str = "fr"
) -> str:
    """Semicolon-separated with a BOM: opens as columns in a French Excel (decimal commas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(v, language) for v in row])
    return "\ufeff" + buffer.getvalue()


def to_csv(rows: Iterable[TrackingRow], language: str = "fr") -> str:
    ordered = sorted(rows, key=TrackingRow.sort_key)
    return rows_to_csv(columns(language), (r.values() for r in ordered), language)
