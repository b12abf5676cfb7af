"""Messages and formats: French by default (auditors are French), English available.

The messages are one gettext catalogue per language, ``locale/<lang>/LC_MESSAGES/
boucle_reporter.po``, with symbolic message ids (``col.date``, ``status.done``…) so that a
code never reaches a reader untranslated by accident. The ``.po`` files are compiled in
memory by Babel when first used: no compiled ``.mo`` is committed nor built by ``make``.
Numbers, percentages and dates are formatted by Babel for the language's locale.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from boucle_runtime.i18n import Catalogues

DOMAIN = "boucle_reporter"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("fr", "en")
LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def _language(language: str) -> str:
    return language if language in LANGUAGES else "fr"


CATALOGUES = Catalogues(LOCALE_DIR, DOMAIN)


def catalogue_path(language: str) -> Path:
    return CATALOGUES.path(language)


def _catalogue(language: str) -> tuple[gettext.GNUTranslations, frozenset[str]]:
    return CATALOGUES.compiled(language)


def message_ids(language: str) -> frozenset[str]:
    """The message ids translated in ``language``'s catalogue (for the drift check)."""
    return _catalogue(_language(language))[1]


def translate(language: str, key: str, **values: Any) -> str:
    """The message in ``language`` (French if unknown); an unknown key reads as its last part."""
    lang = _language(language)
    translations, ids = _catalogue(lang)
    if key in ids:
        text = translations.gettext(key)
    elif key in message_ids("fr"):
        text = _catalogue("fr")[0].gettext(key)
    else:
        text = key.rsplit(".", 1)[-1]
    return text.format(**values) if values else text


def has_message(language: str, key: str) -> bool:
    return key in message_ids(language)


def label(language: str, prefix: str, code: str | None, fallback: str = "") -> str:
    """A code (status, dimension, role…) in words; ``fallback`` when the catalogue lacks it,
    so that a code word never reaches a reader."""
    if not code:
        return fallback
    key = f"{prefix}.{code}"
    return translate(language, key) if has_message(language, key) else (fallback or code)


def decimal(value: float, language: str, digits: int = 1) -> str:
    """A number with ``digits`` decimals for the locale, without grouping (spreadsheets
    read it back as a number)."""
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(value, format=pattern, locale=LOCALES[_language(language)])


def number(value: float, language: str, digits: int = 2) -> str:
    """A number for people: grouped thousands, up to ``digits`` decimals."""
    pattern = "#,##0." + "#" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=LOCALES[_language(language)])


def percent(value: float | None, language: str) -> str:
    """A ratio (0.42) as a percentage for the locale ("42 %"); "—" when unknown."""
    if value is None:
        return "—"
    return format_percent(value, locale=LOCALES[_language(language)])


def day(value: date | None, language: str) -> str:
    """A date for people (``02/12/2026`` in French); empty when there is none."""
    if value is None:
        return ""
    return format_date(value, format="short", locale=LOCALES[_language(language)])


def long_day(value: date, language: str) -> str:
    """A date in words (``2 décembre 2026``)."""
    return format_date(value, format="long", locale=LOCALES[_language(language)])


def metric_value(language: str, metric: str, value: float) -> str:
    """A metric's value: rates as percentages, complaints per 100 learners and the others
    with two decimals."""
    if metric.endswith("_rate") and metric != "complaint_rate":
        return percent(value, language)
    return decimal(value, language, 2)


def change_sentence(
    language: str, metric: str, dimension: str | None, baseline: float, current: float
) -> str:
    """ "La satisfaction moyenne (plateforme) est passée de 4,18 à 3,39": a metric's change
    in a sentence, its code words in the catalogue's words (rates as percentages)."""
    aspect = label(language, "dim", dimension, translate(language, "rep.other")).lower()
    rate = metric.endswith("_rate")
    values = {
        "aspect": f" ({aspect})" if dimension else "",
        "baseline": percent(baseline, language) if rate else decimal(baseline, language, 2),
        "current": percent(current, language) if rate else decimal(current, language, 2),
    }
    key = f"change.{metric}"
    return translate(language, key if has_message(language, key) else "change.other", **values)


def themes_sentence(language: str, themes: Sequence[str]) -> str:
    """The themes of the comments, by their names (a network's own theme as it is)."""
    names = [label(language, "dim", theme, theme).lower() for theme in themes]
    return translate(language, "change.themes", themes=", ".join(names)) if names else ""
