"""The collection plan as people read it and edit it. Pure.

A rule reads as one French sentence (« Stagiaires : enquête à chaud à la fin de chaque
session, relances à 3 et 7 jours, formulaire Tally »), built from catalogue words so that
English reads as English. The publishing form has one fieldset per rule whose inputs are
named ``rules-<i>-<field>``; what was typed comes back as text (``RuleDraft``) so that a
refused version is shown again as it was typed, and becomes the API's body only when every
number reads as a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.lists import format_list

from boucle_console.adapters.surveys import RuleView

Translate = Callable[..., str]
STAKEHOLDERS = ("learner", "trainer", "company", "funder")
KINDS = ("hot", "cold", "end_of_programme", "annual", "ad_hoc")
TRIGGERS = ("session_end", "dropout", "yearly")
FIELDS = (
    "rule_id",
    "label",
    "stakeholder",
    "survey_kind",
    "trigger",
    "delay_days",
    "programme_ids",
    "survey_id",
    "platform",
    "form_url",
    "anonymous",
    "reminder_days",
    "expires_after_days",
)
# Platforms written as their makers write them; any other is shown as it is coded.
PLATFORMS = {"typeform": "Typeform", "tally": "Tally", "limesurvey": "LimeSurvey"}
PARIS = ZoneInfo("Europe/Paris")
MAX_RULES = 50


def _listing(values: list[str], lang: str) -> str:
    return format_list(values, locale=lang) if values else ""


def when_asked(rule: RuleView, t: Translate, lang: str) -> str:
    """« à la fin de chaque session », « 60 jours après la fin de chaque session »…"""
    if rule.trigger == "yearly":
        return t("cplan.when.yearly")
    base = "dropout" if rule.trigger == "dropout" else "session_end"
    if rule.delay_days == 0:
        return t(f"cplan.when.{base}")
    return t(f"cplan.when.{base}.after", days=rule.delay_days)


def reminders(rule: RuleView, t: Translate, lang: str) -> str:
    days = [str(d) for d in rule.reminder_days]
    if not days:
        return t("cplan.reminders.none")
    key = "cplan.reminders.one" if len(days) == 1 else "cplan.reminders.many"
    return t(key, days=_listing(days, lang))


def form_of(rule: RuleView, t: Translate) -> str:
    if rule.platform == "boucle":
        return t("cplan.form.boucle")
    return t("cplan.form", platform=PLATFORMS.get(rule.platform, rule.platform))


def sentence(rule: RuleView, t: Translate, lang: str) -> str:
    """The rule in one sentence, its stakeholders first."""
    parts = [
        t(f"cplan.kind.{rule.survey_kind}") + " " + when_asked(rule, t, lang),
        reminders(rule, t, lang),
        form_of(rule, t),
    ]
    if rule.anonymous:
        parts.append(t("cplan.anonymous"))
    if rule.programme_ids:
        parts.append(t("cplan.programmes", programmes=_listing(list(rule.programme_ids), lang)))
    return t("cplan.sentence", who=t(f"cplan.who.{rule.stakeholder}"), what=", ".join(parts))


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule as typed in the form: every field as text (``anonymous``: "on" or "")."""

    values: Mapping[str, str]

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")

    @classmethod
    def of(cls, rule: RuleView) -> RuleDraft:
        return cls(
            {
                "rule_id": rule.rule_id,
                "label": rule.label,
                "stakeholder": rule.stakeholder,
                "survey_kind": rule.survey_kind,
                "trigger": rule.trigger,
                "delay_days": str(rule.delay_days),
                "programme_ids": ", ".join(rule.programme_ids),
                "survey_id": rule.survey_id,
                "platform": rule.platform,
                "form_url": rule.form_url,
                "anonymous": "on" if rule.anonymous else "",
                "reminder_days": ", ".join(str(d) for d in rule.reminder_days),
                "expires_after_days": str(rule.expires_after_days),
            }
        )

    @classmethod
    def blank(cls, index: int) -> RuleDraft:
        return cls(
            {
                "rule_id": f"regle-{index + 1}",
                "stakeholder": "learner",
                "survey_kind": "hot",
                "trigger": "session_end",
                "delay_days": "0",
                "platform": "tally",
                "reminder_days": "3, 7",
                "expires_after_days": "30",
            }
        )


def drafts_from_form(form: Mapping[str, str]) -> list[RuleDraft]:
    """The rules of a submitted form, in their order (``rules-<i>-<field>``)."""
    indexes = sorted(
        {
            int(name.split("-")[1])
            for name in form
            if name.startswith("rules-") and name.split("-")[1].isdigit()
        }
    )[:MAX_RULES]
    return [RuleDraft({f: form.get(f"rules-{i}-{f}", "").strip() for f in FIELDS}) for i in indexes]


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _whole(draft: RuleDraft, name: str, number: int, problems: list[tuple[int, str]]) -> int:
    try:
        return int(draft[name])
    except ValueError:
        problems.append((number, name))
        return 0


def rules_body(drafts: list[RuleDraft]) -> tuple[list[dict[str, object]], list[tuple[int, str]]]:
    """The API's rules, and the (rule number, field) of every number that is not one. The
    rest (ids, required texts, coherence) the surveys service checks and explains."""
    problems: list[tuple[int, str]] = []
    rules: list[dict[str, object]] = []
    for number, draft in enumerate(drafts, start=1):
        try:
            reminder_days = [int(d) for d in _ids(draft["reminder_days"])]
        except ValueError:
            problems.append((number, "reminder_days"))
            reminder_days = []
        rules.append(
            {
                "rule_id": draft["rule_id"],
                "label": draft["label"],
                "stakeholder": draft["stakeholder"],
                "survey_kind": draft["survey_kind"],
                "trigger": draft["trigger"],
                "delay_days": _whole(draft, "delay_days", number, problems),
                "programme_ids": _ids(draft["programme_ids"]),
                "survey_id": draft["survey_id"],
                "platform": draft["platform"],
                "form_url": draft["form_url"],
                "anonymous": draft["anonymous"] == "on",
                "reminder_days": reminder_days,
                "expires_after_days": _whole(draft, "expires_after_days", number, problems),
            }
        )
    return rules, problems


def effective_moment(day: date) -> datetime:
    """A version takes effect at midnight in Paris on the day chosen."""
    return datetime.combine(day, time(0, 0), tzinfo=PARIS)
