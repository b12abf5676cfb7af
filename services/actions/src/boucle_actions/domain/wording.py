"""What the service writes for people (titles, descriptions, notes of drafted actions), in
sentences: French by default, English available. Pure.

Metrics, dimensions and severities are named in words, never by their codes; numbers,
percentages and dates are formatted for the locale by Babel ("4,18", "12 %", "17 mars
2025"). Sites, programmes and trainers are known here by their ids only; the documents
people read (the reporter's) put names on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
RATES = frozenset(
    {Metric.SATISFACTION_RATE, Metric.RESPONSE_RATE, Metric.COMPLAINT_RATE, Metric.DROPOUT_RATE}
)
LOWER_IS_BETTER = frozenset({Metric.COMPLAINT_RATE, Metric.DROPOUT_RATE})

# Subject of a sentence, with its article, and whether its participle agrees (feminine).
SUBJECTS: dict[str, dict[Metric, tuple[str, bool]]] = {
    "fr": {
        Metric.MEAN_SATISFACTION: ("la satisfaction moyenne", True),
        Metric.SATISFACTION_RATE: ("le taux de satisfaction", False),
        Metric.NPS: ("le NPS", False),
        Metric.RESPONSE_RATE: ("le taux de réponse", False),
        Metric.COMPLAINT_RATE: ("le taux de réclamations", False),
        Metric.DROPOUT_RATE: ("le taux d'abandon", False),
    },
    "en": {
        Metric.MEAN_SATISFACTION: ("mean satisfaction", False),
        Metric.SATISFACTION_RATE: ("the satisfaction rate", False),
        Metric.NPS: ("the NPS", False),
        Metric.RESPONSE_RATE: ("the response rate", False),
        Metric.COMPLAINT_RATE: ("the complaint rate", False),
        Metric.DROPOUT_RATE: ("the dropout rate", False),
    },
}
# "de la satisfaction moyenne", "du taux d'abandon": after "Baisse", "Hausse".
OF = {"la ": "de la ", "le ": "du ", "l'": "de l'"}
DIMENSIONS = {
    "fr": {
        "overall": "globale",
        "content": "contenu",
        "trainer": "formateur",
        "platform": "plateforme",
        "organisation": "organisation",
        "materials": "supports",
        "accessibility": "accessibilité",
        "administration": "administration",
    },
    "en": {},
}
THEMES = {  # with their article: "cause citée : la plateforme"
    "fr": {
        "platform": "la plateforme",
        "trainer": "le formateur",
        "content": "le contenu",
        "organisation": "l'organisation",
        "materials": "les supports",
        "administration": "l'administratif",
        "accessibility": "l'accessibilité",
    },
    "en": {},
}
SEVERITIES = {
    "fr": {"low": "faible", "medium": "moyenne", "high": "élevée", "critical": "critique"},
    "en": {},
}
TESTS = {
    "fr": {"welch_t": "test de Welch", "two_proportion_z": "test de deux proportions"},
    "en": {"welch_t": "Welch's t test", "two_proportion_z": "two-proportion z test"},
}


def _lang(language: str) -> str:
    return language if language in LOCALES else "fr"


def _words(code: str) -> str:
    """A network's own code ("accueil_site") as words when no label is known."""
    return code.replace("_", " ").replace("-", " ")


def dimension(code: str, language: str = "fr") -> str:
    return DIMENSIONS[_lang(language)].get(code, _words(code))


def theme(code: str, language: str = "fr") -> str:
    return THEMES[_lang(language)].get(code, _words(code))


def severity(code: str, language: str = "fr") -> str:
    return SEVERITIES[_lang(language)].get(code, _words(code))


def statistical_test(code: str, language: str = "fr") -> str:
    return TESTS[_lang(language)].get(code, _words(code))


def decimal(value: float, language: str = "fr", digits: int = 2) -> str:
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=LOCALES[_lang(language)])


def share(value: float, language: str = "fr") -> str:
    """A ratio (0.62) as a percentage for the locale ("62 %")."""
    return format_percent(value, locale=LOCALES[_lang(language)])


def value(metric: Metric, figure: float, language: str = "fr") -> str:
    """A metric's value: rates as percentages, the others with two decimals."""
    return share(figure, language) if metric in RATES else decimal(figure, language)


def long_date(day: date, language: str = "fr") -> str:
    return format_date(day, format="long", locale=LOCALES[_lang(language)])


def plural(count: int, one: str, many: str) -> str:
    """``1 réclamation liée``, ``3 réclamations liées`` (French: 0 and 1 are singular)."""
    return f"{count} {one if count <= 1 else many}"


def enumerate_words(items: Sequence[str], language: str = "fr") -> str:
    """``a``, ``a et b``, ``a, b et c``."""
    if len(items) <= 1:
        return "".join(items)
    last = " et " if _lang(language) == "fr" else " and "
    return f"{', '.join(items[:-1])}{last}{items[-1]}"


def subject(metric: Metric, dimension_code: str | None, language: str = "fr") -> str:
    """``la satisfaction moyenne (plateforme)``."""
    words, _ = SUBJECTS[_lang(language)][metric]
    return words + (f" ({dimension(dimension_code, language)})" if dimension_code else "")


def change(
    metric: Metric,
    dimension_code: str | None,
    before: tuple[float, int],
    after: tuple[float, int],
    language: str = "fr",
) -> str:
    """``La satisfaction moyenne (plateforme) est passée de 4,18 (n = 120) à 3,39 (n = 95)``."""
    lang = _lang(language)
    what = subject(metric, dimension_code, lang)
    (b, b_n), (a, a_n) = before, after
    first = f"{value(metric, b, lang)} (n = {b_n})"
    second = f"{value(metric, a, lang)} (n = {a_n})"
    if lang == "en":
        return f"{what[0].upper()}{what[1:]} went from {first} to {second}"
    feminine = SUBJECTS["fr"][metric][1]
    verb = "est passée" if feminine else "est passé"
    return f"{what[0].upper()}{what[1:]} {verb} de {first} à {second}"


def drop(metric: Metric, dimension_code: str | None, language: str = "fr") -> str:
    """A title's start: ``Baisse de la satisfaction moyenne (plateforme)``, ``Hausse du taux
    d'abandon`` (a rise, where lower is better)."""
    lang = _lang(language)
    what = subject(metric, dimension_code, lang)
    worse = metric in LOWER_IS_BETTER
    if lang == "en":
        return f"{'Rise' if worse else 'Fall'} in {what.removeprefix('the ')}"
    for article, of in OF.items():
        if what.startswith(article):
            what = of + what.removeprefix(article)
            break
    return f"{'Hausse' if worse else 'Baisse'} {what}"


def place(scope: Scope, language: str = "fr") -> str:
    """``site lyon``, ``programme p (site lyon)``, ``formateur t``, ``l'ensemble du réseau``."""
    fr = _lang(language) == "fr"
    at = f" (site {scope.site_id})" if scope.site_id else ""
    if scope.level is ScopeLevel.PROGRAMME:
        return f"programme {scope.programme_id}{at}"
    if scope.level is ScopeLevel.TRAINER:
        return f"{'formateur' if fr else 'trainer'} {scope.trainer_id}{at}"
    if scope.level is ScopeLevel.SITE:
        return f"site {scope.site_id}"
    return "l'ensemble du réseau" if fr else "the whole network"


def where(scopes: Sequence[Scope], language: str = "fr") -> str:
    """The scopes in words: ``site lyon et site nice``, ``programme p (site lyon)``."""
    return enumerate_words([place(s, language) for s in scopes], language)


def p_value(p: float, language: str = "fr") -> str:
    """``p = 0,012``; ``p < 0,001`` below what is worth printing."""
    if p < 0.001:
        return f"p < {decimal(0.001, language, 3)}"
    return f"p = {decimal(p, language, 3)}"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def at_place(scope: Scope, language: str = "fr") -> str:
    """Where, after a sentence: ``sur le site lyon``, ``pour le programme p (site lyon)``."""
    named = place(scope, language)
    if _lang(language) == "en":
        return f"at {named}" if scope.level is ScopeLevel.SITE else f"for {named}"
    if scope.level is ScopeLevel.SITE:
        return f"sur le {named}"
    if scope.level is ScopeLevel.NETWORK:
        return f"sur {named}"
    return f"pour le {named}"
