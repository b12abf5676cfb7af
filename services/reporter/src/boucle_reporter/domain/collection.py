"""What the dossier says of indicator 30 from the surveys service's events: the collection
plan in force (its methods and frequencies, in sentences), and response rates as people
who answered ÷ people asked. Pure.

A solicitation counts as asked once sent (or answered by a link shared otherwise); one
closed unreachable was never sent and does not count. Rates therefore never exceed 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.lists import format_list

from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.i18n import LOCALES, translate

Document = dict[str, Any]
PLATFORMS = {
    "limesurvey": "LimeSurvey",
    "surveymonkey": "SurveyMonkey",
    "kobotoolbox": "KoboToolbox",
}


@dataclass(frozen=True, slots=True)
class PlanVersionView:
    version: int
    effective_from: datetime
    rules: tuple[Document, ...]
    note: str | None = None


@dataclass(slots=True)
class Asked:
    asked: int = 0
    answered: int = 0


@dataclass(slots=True)
class Collection:
    """Indicator 30's part of a build: the plan in force at the period's end, the versions
    published during it, and who was asked (by stakeholder type and survey kind)."""

    plan: PlanVersionView | None = None
    versions: list[PlanVersionView] = field(default_factory=list)
    by_role: dict[str, Asked] = field(default_factory=dict)
    by_kind: dict[str, Asked] = field(default_factory=dict)
    # (site or None for network-wide, stakeholder type) -> last sending in the 12 months
    last_asked: dict[tuple[str | None, str], datetime] = field(default_factory=dict)

    @property
    def tracked(self) -> bool:
        """Whether Boucle knows who was asked (a plan exists): rates can be computed."""
        return self.plan is not None or bool(self.versions)


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _day_start(day: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def collection_of(
    request: BuildRequest, solicitations: Iterable[Document], plans: Iterable[Document]
) -> Collection:
    start, end = _day_start(request.start), _day_start(request.end)
    collection = Collection()
    versions = sorted(
        (
            PlanVersionView(
                version=int(doc["plan_version"]),
                effective_from=_utc(doc["effective_from"]) or start,
                rules=tuple(doc.get("rules") or ()),
                note=doc.get("note"),
            )
            for doc in plans
        ),
        key=lambda v: v.version,
    )
    in_force = [v for v in versions if v.effective_from < end]
    collection.plan = in_force[-1] if in_force else None
    collection.versions = [v for v in in_force if v.effective_from >= start]
    year_before = end - timedelta(days=365)
    for doc in solicitations:
        site = doc.get("site_id")
        if not (site is None or request.covers_site(site)):
            continue
        answered = _utc(doc.get("answered_at"))
        asked_at = _utc(doc.get("sent_at")) or answered
        if asked_at is None or asked_at >= end:
            continue
        role, kind = str(doc.get("respondent_role")), str(doc.get("survey_kind"))
        if asked_at >= year_before:
            last = collection.last_asked.get((site, role))
            collection.last_asked[site, role] = max(asked_at, last) if last else asked_at
        if asked_at < start:
            continue
        for tally in (
            collection.by_role.setdefault(role, Asked()),
            collection.by_kind.setdefault(kind, Asked()),
        ):
            tally.asked += 1
            tally.answered += answered is not None and answered < end
    return collection


def rule_sentence(rule: Document, language: str, programme_name: Any = str) -> str:
    """One rule as a person says it: « Stagiaires : enquête à chaud, à la fin de chaque
    session ; formulaire Tally ; relances à 3 et 7 jours ; réponses anonymes »."""
    role = translate(language, f"plan.role.{rule['stakeholder']}")
    kind = translate(language, f"plan.kind.{rule['survey_kind']}")
    trigger, days = rule["trigger"], int(rule.get("delay_days") or 0)
    when_key = f"plan.when.{trigger}" + (".now" if days == 0 and trigger != "yearly" else "")
    when = translate(language, when_key, days=days)
    parts = [translate(language, "plan.rule", role=role, kind=kind, when=when)]
    platform = str(rule.get("platform", ""))
    parts.append(
        translate(language, "plan.form", platform=PLATFORMS.get(platform, platform.capitalize()))
    )
    reminders = [str(d) for d in rule.get("reminder_days") or ()]
    locale = LOCALES.get(language, "fr_FR")
    parts.append(
        translate(language, "plan.reminders", days=format_list(reminders, locale=locale))
        if reminders
        else translate(language, "plan.no_reminder")
    )
    if rule.get("programme_ids"):
        names = [programme_name(p) for p in rule["programme_ids"]]
        parts.append(
            translate(language, "plan.programmes", names=format_list(names, locale=locale))
        )
    if rule.get("anonymous"):
        parts.append(translate(language, "plan.anonymous"))
    return " ; ".join(parts)
