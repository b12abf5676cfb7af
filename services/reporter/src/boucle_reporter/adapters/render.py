"""HTML documents from templates (jinja2), and PDF from the same HTML (WeasyPrint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from boucle_reporter.adapters import charts
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.chain import ChainHead, Verification
from boucle_reporter.domain.collection import rule_sentence
from boucle_reporter.domain.figures import ReportFigures, SiteRisk
from boucle_reporter.domain.i18n import (
    change_sentence,
    day,
    label,
    long_day,
    number,
    percent,
    translate,
)
from boucle_reporter.domain.read_model import ActionView, Names, PackData
from boucle_reporter.domain.readiness import Gap
from boucle_reporter.domain.retention import Erasure
from boucle_reporter.domain.tracking import COLUMN_KEYS, DATE_COLUMNS, TrackingRow
from boucle_reporter.domain.tracking import columns as tracking_columns

MAX_DIFFICULTIES = 60
# Columns of sentences, given room in the printed tracking table.
WIDE_COLUMNS = frozenset({"observed", "analysis", "figures", "correction", "measure", "objective"})
MAX_DASHBOARD_SITES = 100
BOARD = (
    ("proposed", ("draft", "proposed")),
    ("validated", ("validated", "reopened")),
    ("in_progress", ("in_progress",)),
    ("done", ("done", "effective", "not_effective")),
)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("boucle_reporter", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def period_label(request: BuildRequest) -> str:
    """The period as every document of a dossier names it: first and last day."""
    lang = request.language
    return translate(
        lang, "doc.period_range", start=day(request.start, lang), end=day(request.last_day, lang)
    )


def moment(value: datetime, language: str) -> str:
    """A moment for people: its UTC date for the locale and hour."""
    return translate(language, "doc.moment", day=day(value.date(), language), time=f"{value:%H:%M}")


def _common(
    request: BuildRequest, generated_at: datetime, names: Names | None = None
) -> dict[str, Any]:
    lang = request.language
    names = names or Names()

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    return {
        "lang": lang,
        "t": t,
        "label": lambda prefix, code, fallback="": label(lang, prefix, code, fallback),
        "request": request,
        "period": period_label(request),
        "period_from": request.start.isoformat(),
        "period_last_day": request.last_day.isoformat(),
        "sites_label": ", ".join(names.site(s) for s in request.sites)
        if request.sites
        else t("doc.all_sites"),
        "generated": moment(generated_at, lang),
        "generated_iso": generated_at.isoformat(),
        "pct": lambda v: percent(v, lang),
        "num": lambda v: "—" if v is None else number(v, lang, 2),
        "day": lambda v: day(date.fromisoformat(v) if isinstance(v, str) else v, lang),
        "long_day": lambda v: long_day(v, lang),
        "moment": lambda v: moment(datetime.fromisoformat(v) if isinstance(v, str) else v, lang),
        "change": lambda metric, dimension, baseline, current: change_sentence(
            lang, metric, dimension, baseline, current
        ),
    }


def report_charts(figures: ReportFigures, language: str) -> dict[str, str | None]:
    def t(key: str) -> str:
        return translate(language, key)

    def bars(counter: dict[str, int], prefix: str) -> str | None:
        if not counter:
            return None
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        return charts.bar_chart(
            [label(language, prefix.rstrip("."), k, t("rep.other")) for k, _ in items],
            [v for _, v in items],
            language=language,
        )

    rates = figures.response_rates
    known = [r for r in rates if r.rate is not None]
    return {
        "satisfaction": charts.satisfaction_chart(
            figures.months,
            figures.satisfaction,
            {d: label(language, "dim", d, t("rep.other")) for d in figures.satisfaction},
            figures.action_marks,
            language,
        ),
        # A bar only for a rate that is known; while no rate is (solicitations unknown),
        # the chart shows the respondents, and the table says why there is no rate.
        "response_rates": charts.bar_chart(
            [t(f"rep.role.{r.role}") for r in known],
            [r.rate or 0.0 for r in known],
            percent=True,
            language=language,
        )
        if known
        else charts.bar_chart(
            [t(f"rep.role.{r.role}") for r in rates],
            [r.responses for r in rates],
            language=language,
        ),
        "response_rates_known": "yes" if known else None,
        "complaints": bars(figures.complaints_by_category, "dim."),
        "dropouts": bars(figures.dropouts_by_reason, "reason."),
        "actions": bars(figures.actions_by_status, "status."),
        "outcomes": bars(figures.outcomes, "outcome."),
    }


def report_html(
    data: PackData,
    figures: ReportFigures,
    chart_images: dict[str, str | None],
    gaps: Sequence[Gap],
) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        **_common(data.request, data.generated_at, data.names),
        figures=figures,
        totals=list(figures.totals.items()),
        charts=chart_images,
        difficulties=figures.difficulties[:MAX_DIFFICULTIES],
        more_difficulties=max(0, len(figures.difficulties) - MAX_DIFFICULTIES),
        gaps=gaps,
        plan=data.collection.plan,
        plan_rules=[
            rule_sentence(rule, data.request.language, data.names.programme)
            for rule in (data.collection.plan.rules if data.collection.plan else ())
        ],
        plan_versions=data.collection.versions,
    )


def index_html(
    data: PackData,
    index: Sequence[tuple[int, str, str, Sequence[str]]],
    head: ChainHead,
    verification: Verification | None,
    gaps: Sequence[Gap],
    *,
    signed: dict[str, Any] | None = None,
    erasures: Sequence[Erasure] = (),
) -> str:
    """``signed``: the head as signed for this dossier; ``erasures``: bodies erased."""
    lang = data.request.language

    def cause(reason: str) -> str:
        if reason.startswith("retention:"):
            family = reason.removeprefix("retention:")
            return translate(lang, "erasure.retention", family=family)
        return translate(lang, f"erasure.{reason}")

    template = _environment().get_template("index.html.j2")
    return template.render(
        **_common(data.request, data.generated_at, data.names),
        index=index,
        head=head,
        verification=verification,
        gaps=gaps,
        signed=signed if signed and signed.get("signature") else None,
        erasures=[(e, cause(e.reason)) for e in erasures],
        erased_total=sum(e.entries for e in erasures),
    )


def tracking_html(data: PackData, rows: Sequence[TrackingRow]) -> str:
    """The tracking table for people (and its PDF): dates for the locale, one row per
    measure, complaint, meeting and month analysed."""
    lang = data.request.language

    def shown(value: object) -> str:
        if isinstance(value, date):
            return day(value, lang)
        return "" if value is None else str(value)

    template = _environment().get_template("tracking.html.j2")
    return template.render(
        **_common(data.request, data.generated_at, data.names),
        columns=tracking_columns(lang),
        classes=[
            "date" if key in DATE_COLUMNS else "wide" if key in WIDE_COLUMNS else ""
            for key in COLUMN_KEYS
        ],
        rows=[[shown(v) for v in row.values()] for row in rows],
    )


@dataclass(frozen=True, slots=True)
class Card:
    action_id: str
    title: str
    site_id: str | None
    owner: str | None
    due_date: date | None
    late: bool


def _card(action: ActionView, today: date) -> Card:
    late = action.open and action.due_date is not None and action.due_date < today
    return Card(action.action_id, action.title, action.site_id, action.owner, action.due_date, late)


def dashboard_html(
    data: PackData, figures: ReportFigures, risks: Sequence[SiteRisk], gaps: Sequence[Gap]
) -> str:
    today = data.generated_at.date()
    board = [
        (column, [_card(a, today) for a in data.actions if a.status in statuses])
        for column, statuses in BOARD
    ]
    template = _environment().get_template("dashboard.html.j2")
    return template.render(
        **_common(data.request, data.generated_at, data.names),
        site=data.names.site,
        person=data.names.person,
        figures=figures,
        risks=risks[:MAX_DASHBOARD_SITES],
        more_sites=max(0, len(risks) - MAX_DASHBOARD_SITES),
        degradations=[d for d in data.degradations if d.open],
        board=board,
        gaps=gaps,
    )


def pdf(html: str) -> bytes:
    """The same HTML as a PDF (charts are embedded images, so no fetching)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415 - loads pango

    document: bytes = HTML(string=html).write_pdf()
    return document
