"""Collection plans: which survey goes to whom and when, versioned by the date they apply.

A network's plan changes over time (a cold survey added, a reminder dropped); what the
dossier shows for indicator 30 is the version in force on a date, so versions are never
edited, only superseded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date

from boucle_contracts.common import RespondentRole
from boucle_contracts.solicitations.v1 import CollectionRule, CollectionTrigger


class PlanError(ValueError):
    """A plan that cannot be put in force, with the reason in words a quality lead reads."""


@dataclass(frozen=True, slots=True)
class PlanVersion:
    network_id: str
    version: int
    effective_from: datetime
    rules: tuple[CollectionRule, ...]
    published_by: str
    published_at: datetime
    note: str | None = None

    def rules_for(
        self, trigger: CollectionTrigger, role: RespondentRole, programme_id: str | None
    ) -> tuple[CollectionRule, ...]:
        """The rules of this trigger for this stakeholder, for a programme (None: unknown,
        then only the rules for every programme apply)."""
        return tuple(
            rule
            for rule in self.rules
            if rule.trigger is trigger
            and rule.stakeholder is role
            and (not rule.programme_ids or programme_id in rule.programme_ids)
        )


def check_rules(rules: Sequence[CollectionRule]) -> None:
    """Refuse a plan a person would not mean: duplicate rule ids, or two rules sending the
    same survey on the same trigger to the same people (they would be asked twice)."""
    if not rules:
        raise PlanError("Le plan de collecte doit contenir au moins une règle.")
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise PlanError(f"La règle « {rule.rule_id} » apparaît deux fois dans le plan.")
        seen.add(rule.rule_id)
    keys: dict[tuple[str, str, str, tuple[str, ...], int], str] = {}
    for rule in rules:
        key = (rule.survey_id, rule.trigger, rule.stakeholder, rule.programme_ids, rule.delay_days)
        if key in keys:
            raise PlanError(
                f"Les règles « {keys[key]} » et « {rule.rule_id} » enverraient la même "
                "enquête aux mêmes personnes, au même moment."
            )
        keys[key] = rule.rule_id


def next_version(
    existing: Iterable[PlanVersion],
    *,
    network_id: str,
    effective_from: datetime,
    rules: Sequence[CollectionRule],
    published_by: str,
    published_at: datetime,
    note: str | None = None,
) -> PlanVersion:
    """The version that follows ``existing``; it may not take effect before the last one."""
    check_rules(rules)
    versions = sorted(existing, key=lambda plan: plan.version)
    if versions and effective_from < versions[-1].effective_from:
        raise PlanError(
            "Une nouvelle version du plan ne peut pas s'appliquer avant la version "
            f"{versions[-1].version}, en vigueur depuis le "
            f"{format_date(versions[-1].effective_from, 'long', locale='fr_FR')}."
        )
    return PlanVersion(
        network_id=network_id,
        version=versions[-1].version + 1 if versions else 1,
        effective_from=effective_from,
        rules=tuple(rules),
        published_by=published_by,
        published_at=published_at,
        note=note,
    )


def in_force(versions: Iterable[PlanVersion], at: datetime) -> PlanVersion | None:
    """The version that applies at ``at``: the latest one in effect by then."""
    applicable = [plan for plan in versions if plan.effective_from <= at]
    return max(applicable, key=lambda plan: plan.version, default=None)
