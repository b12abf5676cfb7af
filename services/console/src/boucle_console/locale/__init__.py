"""The console's words, French first and English available, and dates, durations and
numbers by Babel.

The words are one gettext catalogue per language, ``<lang>/LC_MESSAGES/boucle_console.po``
(as the reporter's), with symbolic message ids (``inbox.title``, ``astatus.done``…) so that
a code never reaches a reader untranslated by accident: a missing English message falls
back to French. Babel compiles the ``.po`` files in memory when first used: no ``.mo`` is
committed nor built. Statuses, sources and roles are always shown by name, never by code.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from babel.dates import format_date, format_datetime, format_timedelta, get_timezone
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from boucle_runtime.i18n import Catalogues

Locale = Literal["fr", "en"]
LOCALES: tuple[Locale, ...] = ("fr", "en")
TIMEZONE = "Europe/Paris"
DOMAIN = "boucle_console"
LOCALE_DIR = Path(__file__).resolve().parent
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


CATALOGUES = Catalogues(LOCALE_DIR, DOMAIN)


def catalogue_path(locale: Locale) -> Path:
    return CATALOGUES.path(locale)


def _catalogue(locale: Locale) -> tuple[gettext.GNUTranslations, frozenset[str]]:
    return CATALOGUES.compiled(locale)


def message_ids(locale: Locale) -> frozenset[str]:
    """The message ids translated in ``locale``'s catalogue."""
    return _catalogue(locale)[1]


def has_message(locale: Locale, key: str) -> bool:
    return key in message_ids(locale)


def pick_locale(chosen: str | None, accept_language: str | None, default: Locale) -> Locale:
    """The person's choice (cookie), else the browser's first known language, else the default."""
    if chosen in LOCALES:
        return "en" if chosen == "en" else "fr"
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return "en" if tag == "en" else "fr"
    return default


def translator(locale: Locale) -> Callable[..., str]:
    """``t(key, **values)``: the message in ``locale``, else in French, else the key."""
    translations, ids = _catalogue(locale)
    french, french_ids = _catalogue("fr")

    def translate(key: str, **values: object) -> str:
        if key in ids:
            text = translations.gettext(key)
        elif key in french_ids:
            text = french.gettext(key)
        else:
            text = key
        return text.format(**values) if values else text

    return translate


def when(moment: datetime, locale: Locale) -> str:
    return format_datetime(moment, "d MMM y HH:mm", tzinfo=get_timezone(TIMEZONE), locale=locale)


def day(moment: object, locale: Locale) -> str:
    """The day in Paris: a plan taking effect at midnight there is 23:00 UTC the day before."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(get_timezone(TIMEZONE))
    return format_date(moment, "long", locale=locale)  # type: ignore[arg-type]


def duration(delta: timedelta, locale: Locale) -> str:
    """A rounded duration, sign dropped: « 45 heures » below two days, « 3 jours » above."""
    return format_timedelta(abs(delta), threshold=2, locale=locale)


def hours(value: float, locale: Locale) -> str:
    """« 48 heures »: a configured deadline, as configured (not rounded to days)."""
    return format_unit(value, "duration-hour", locale=locale)


def days(value: float, locale: Locale) -> str:
    return format_unit(value, "duration-day", locale=locale)


def number(value: float, digits: int = 2, locale: Locale = "fr") -> str:
    """« 3,42 »: figures as the person's language writes them."""
    return format_decimal(round(value, digits), format=f"#,##0.{'0' * digits}", locale=locale)


def percent(share: float, locale: Locale) -> str:
    return format_percent(share, locale=locale)


def metric_value(metric: str, value: float, locale: Locale) -> str:
    """A metric's value as the reporter writes it: rates as percentages, the others (mean
    satisfaction, NPS, complaints per 100 learners) with two decimals."""
    if metric.endswith("_rate") and metric != "complaint_rate":
        # one decimal at most, spaced as the language spaces percentages (« 82,3 % »)
        return format_percent(round(value, 3), decimal_quantization=False, locale=locale)
    return number(value, 2, locale)
