"""HTML documents from templates (jinja2), and PDF from the same HTML (WeasyPrint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from boucle_reporter.adapters import charts
from boucle_reporter.domain.chain import ChainHead, Verification
from boucle_reporter.domain.figures import ReportFigures, SiteRisk
from boucle_reporter.domain.i18n import decimal, translate
from boucle_reporter.domain.model import ActionView, BuildRequest, PackData
from boucle_reporter.domain.readiness import Finding

MAX_DIFFICULTIES = 60
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


def _common(request: BuildRequest, generated_at: datetime) -> dict[str, Any]:
    lang = request.language
    last_day = date.fromordinal(request.end.toordinal() - 1)

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    return {
        "lang": lang,
        "t": t,
        "request": request,
        "period": f"{request.start.isoformat()} → {last_day.isoformat()}",
        "sites_label": ", ".join(request.sites) if request.sites else t("doc.all_sites"),
        "generated": generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "pct": lambda v: "—" if v is None else f"{decimal(100 * v, lang, 0)} %",
        "num": lambda v: "—" if v is None else decimal(v, lang, 2),
    }


def report_charts(figures: ReportFigures, language: str) -> dict[str, str | None]:
    def t(key: str) -> str:
        return translate(language, key)

    def bars(counter: dict[str, int], prefix: str) -> str | None:
        if not counter:
            return None
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        return charts.bar_chart([t(f"{prefix}{k}") for k, _ in items], [v for _, v in items])

    rates = figures.response_rates
    return {
        "satisfaction": charts.satisfaction_chart(
            figures.months,
            figures.satisfaction,
            {d: t(f"dim.{d}") for d in figures.satisfaction},
            figures.action_marks,
        ),
        "response_rates": charts.bar_chart(
            [t(f"rep.role.{r.role}") for r in rates], [r.rate or 0.0 for r in rates], percent=True
        ),
        "complaints": bars(figures.complaints_by_category, "dim."),
        "dropouts": bars(figures.dropouts_by_reason, "reason."),
        "actions": bars(figures.actions_by_status, "status."),
        "outcomes": bars(figures.outcomes, "outcome."),
    }


def report_html(
    data: PackData,
    figures: ReportFigures,
    chart_images: dict[str, str | None],
    findings: Sequence[Finding],
) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        **_common(data.request, data.generated_at),
        figures=figures,
        totals=list(figures.totals.items()),
        charts=chart_images,
        difficulties=figures.difficulties[:MAX_DIFFICULTIES],
        more_difficulties=max(0, len(figures.difficulties) - MAX_DIFFICULTIES),
        findings=findings,
    )


def index_html(
    data: PackData,
    index: Sequence[tuple[int, str, str, Sequence[str]]],
    head: ChainHead,
    verification: Verification | None,
    findings: Sequence[Finding],
) -> str:
    template = _environment().get_template("index.html.j2")
    return template.render(
        **_common(data.request, data.generated_at),
        index=index,
        head=head,
        verification=verification,
        findings=findings,
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
    data: PackData, figures: ReportFigures, risks: Sequence[SiteRisk], findings: Sequence[Finding]
) -> str:
    today = data.generated_at.date()
    board = [
        (column, [_card(a, today) for a in data.actions if a.status in statuses])
        for column, statuses in BOARD
    ]
    template = _environment().get_template("dashboard.html.j2")
    return template.render(
        **_common(data.request, data.generated_at),
        figures=figures,
        risks=risks[:MAX_DASHBOARD_SITES],
        more_sites=max(0, len(risks) - MAX_DASHBOARD_SITES),
        degradations=[d for d in data.degradations if d.open],
        board=board,
        findings=findings,
    )


def pdf(html: str) -> bytes:
    """The same HTML as a PDF (charts are embedded images, so no fetching)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415 - loads pango

    document: bytes = HTML(string=html).write_pdf()
    return document
