"""Charts of the improvement report, drawn by matplotlib (Agg, no display) as PNG."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")

from babel.dates import format_date
from matplotlib.dates import MonthLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from boucle_reporter.domain.i18n import LOCALES, number
from boucle_reporter.domain.i18n import percent as format_percent

MAX_TICKS = 36
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a5a5a5", "#843c0c")


def _x(day: date) -> float:
    return float(date2num(day))  # type: ignore[no-untyped-call]


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def satisfaction_chart(
    months: Sequence[str],
    series: dict[str, list[float | None]],
    labels: dict[str, str],
    marks: Sequence[tuple[date, date | None]],
    language: str = "fr",
) -> str:
    """Mean satisfaction per dimension and month, with each action's start and end marked;
    months and figures written for the language's locale ("janv. 2025", "3,5")."""
    figure = Figure(figsize=(8, 3.6))
    axes = figure.subplots()
    days = [date(int(m[:4]), int(m[5:7]), 15) for m in months]
    x = [_x(d) for d in days]
    for index, (dimension, values) in enumerate(series.items()):
        points = [(d, v) for d, v in zip(x, values, strict=True) if v is not None]
        if points:
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                marker="o",
                markersize=3,
                color=PALETTE[index % len(PALETTE)],
                label=labels.get(dimension, dimension),
            )
    for start, end in marks[:200]:
        axes.axvline(_x(start), color="#548235", alpha=0.35, linewidth=1)
        if end:
            axes.axvline(_x(end), color="#7f7f7f", alpha=0.35, linewidth=1, linestyle="--")
    axes.set_ylim(1, 5)
    if days:
        first, last = days[0].replace(day=1), days[-1].replace(day=28)
        axes.set_xlim(_x(first), _x(last))
    # Month ticks (a label on finer ticks would repeat itself), at most about MAX_TICKS of
    # them: a period of centuries asked for would otherwise draw one per month, for minutes.
    step = max(1, -(-len(days) // MAX_TICKS))
    axes.xaxis.set_major_locator(MonthLocator(interval=step))  # type: ignore[no-untyped-call]
    locale = LOCALES.get(language, LOCALES["fr"])
    axes.xaxis.set_major_formatter(
        lambda v, _: format_date(num2date(v).date(), "MMM yyyy", locale=locale)  # type: ignore[no-untyped-call]
    )
    axes.yaxis.set_major_formatter(lambda v, _: number(v, language, 1))
    axes.grid(alpha=0.3)
    if series:
        axes.legend(fontsize=7, loc="lower left", ncol=4)
    figure.autofmt_xdate()
    return _png(figure)


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, percent: bool = False, language: str = "fr"
) -> str:
    """Horizontal bars, largest first as given; figures for the language's locale."""
    figure = Figure(figsize=(7, 0.45 * max(3, len(labels)) + 0.6))
    axes = figure.subplots()
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=PALETTE[0])
    axes.set_yticks(positions, labels=list(labels))
    axes.invert_yaxis()
    for position, value in zip(positions, values, strict=True):
        text = format_percent(value, language) if percent else number(value, language, 2)
        axes.text(value, position, f" {text}", va="center", fontsize=8)
    if percent:
        axes.set_xlim(0, 1.1)
        axes.xaxis.set_major_formatter(lambda v, _: format_percent(v, language))
    else:  # counts: whole ticks, written for the locale
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(lambda v, _: number(v, language, 0))
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)
