"""The improvement tracking table (tableau de suivi des mesures d'amélioration). Pure.

One row per source an auditor follows: each complaint, hazard or difficulty case, each
improvement action, and each monthly analysis of a site's survey responses, with what
was done about it. Column titles are French by default: the table is handed to French
auditors.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from boucle_reporter.domain.i18n import decimal, label, translate
from boucle_reporter.domain.read_model import ActionView, AnalysisView, CaseView

COLUMN_KEYS = (
    "date",
    "site",
    "source",
    "reference",
    "observed",
    "analysis",
    "measure",
    "owner",
    "due",
    "started",
    "finished",
    "status",
    "effectiveness",
)
DATE_COLUMNS = frozenset({"date", "due", "started", "finished"})


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
    observed: str  # what was observed: the figures, the complaint, the problem
    analysis: str = ""
    measure: str = ""
    owner: str = ""
    due: dt.date | None = None
    started: dt.date | None = None
    finished: dt.date | None = None
    status: str = ""
    effectiveness: str = ""

    def values(self) -> tuple[Cell, ...]:
        """Typed cells, dates as dates (for the spreadsheet)."""
        return tuple(getattr(self, key) for key in COLUMN_KEYS)

    def cells(self) -> tuple[str, ...]:
        """Text cells, dates in ISO 8601 (for the CSV)."""
        return tuple(_text(v) for v in self.values())


def _day(moment: dt.datetime | None) -> dt.date | None:
    return moment.date() if moment else None


def analysis_figures(responses: int, analysis: AnalysisView, language: str = "fr") -> str:
    figures = [translate(language, "analysis.figures", responses=responses)]
    overall = analysis.figures("overall")
    if overall and overall.mean is not None and overall.satisfaction_rate is not None:
        mean = decimal(overall.mean, language)
        rate = decimal(100 * overall.satisfaction_rate, language, 0)
        figures.append(translate(language, "analysis.mean", mean=mean))
        figures.append(translate(language, "analysis.rate", rate=rate))
    return ", ".join(figures)


def analysis_row(analysis: AnalysisView, language: str = "fr") -> TrackingRow:
    """A site's month of survey responses, summarised as an auditor reads it."""
    year, month = (int(part) for part in analysis.month.split("-"))
    return TrackingRow(
        date=dt.date(year, month, 1),
        site=analysis.site_id or "",
        source=translate(language, "source.survey_analysis"),
        reference=f"analyse-{analysis.site_id}-{analysis.month}",
        observed=analysis_figures(analysis.responses, analysis, language),
        status=translate(language, "status.analysed_month"),
    )


def case_row(
    case: CaseView, language: str = "fr", action_titles: Sequence[str] = ()
) -> TrackingRow:
    return TrackingRow(
        date=case.opened_at.date(),
        site=case.site_id or "",
        source=translate(language, f"source.{case.source}"),
        reference=case.source_ref,
        observed=case.summary,
        analysis=case.root_cause,
        measure=" ; ".join(action_titles),
        due=_day(case.answer_due_at),
        finished=_day(case.closed_at or case.answered_at),
        status=label(language, "status", case.status),
    )


def action_source(action: ActionView) -> str:
    """The first source that is not a link to another action: complaint, hazard, …"""
    return action.source_kinds[0] if action.source_kinds else action.origin


def action_row(action: ActionView, language: str = "fr") -> TrackingRow:
    # "Effective" is a result, not a status: the status column says the action was carried
    # out (its stage), the effectiveness column says how it went.
    result = action.status if action.stage != action.status else None
    outcome = action.outcome or result or ("none" if action.finished else None)
    # A re-opened (or not yet finished) action has no end: an earlier end date would say
    # it is over while its status says it is not.
    finished = _day(action.finished_at) if action.finished else None
    return TrackingRow(
        date=action.created_at.date(),
        site=action.site_id or "",
        source=translate(language, f"source.{action_source(action)}"),
        reference=action.action_id,
        observed=action.problem,
        analysis=action.analysis,
        measure=action.title,
        owner=action.owner or "",
        due=action.due_date,
        started=_day(action.started_at),
        finished=finished,
        status=label(language, "status", action.stage),
        effectiveness=label(language, "outcome", outcome),
    )


def tracking_rows(
    *,
    analyses: Iterable[AnalysisView],
    cases: Iterable[CaseView],
    actions: Sequence[ActionView],
    language: str = "fr",
) -> list[TrackingRow]:
    titles = {a.action_id: a.title for a in actions}
    rows = [analysis_row(a, language) for a in analyses]
    rows += [case_row(c, language, [titles[i] for i in c.action_ids if i in titles]) for c in cases]
    rows += [action_row(a, language) for a in actions]
    return sorted(rows, key=lambda r: (r.date, r.site, r.reference))


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
    ordered = sorted(rows, key=lambda r: (r.date, r.site, r.reference))
    return rows_to_csv(columns(language), (r.values() for r in ordered), language)
