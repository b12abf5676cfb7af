"""The demo's summary, in French, printed as plain lines.

Plain lines (no panel, no table, no wrapping by rich): a terminal of any width wraps them
itself, and a token or a URL stays in one piece that can be pasted.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.numbers import format_decimal
from rich.console import Console

from tools.demo_people import ANSWER_DAYS
from tools.sample_network import SampleNetwork, site_label

if TYPE_CHECKING:
    from tools.demo import Outcome

console = Console(soft_wrap=True, highlight=False)

# label, or (singular, plural)
Labels = dict[str, str | tuple[str, str]]
KINDS: Labels = {
    "survey-responses": ("appréciation", "appréciations"),
    "enrolments": ("inscription", "inscriptions"),
    "complaints": ("réclamation", "réclamations"),
    "hazards": ("aléa ou difficulté", "aléas et difficultés"),
    "dropouts": ("abandon", "abandons"),
    "session-completions": ("fin de session", "fins de session"),
}
CHANNELS: Labels = {
    "typeform": "webhooks Typeform",
    "tally": "webhooks Tally",
    "bulk": "envois groupés NDJSON",
    "api": "API native",
}
NAMES: Labels = {
    "sites": ("site", "sites"),
    "programmes": ("formation", "formations"),
    "people": ("personne", "personnes"),
}
DIMENSIONS = {
    "overall": "satisfaction globale",
    "platform": "plateforme en ligne",
    "trainer": "formateur",
    "content": "contenu",
}
CASE_STATUSES: Labels = {
    "received": "reçues, pas encore traitées",
    "acknowledged": "accusé de réception envoyé",
    "analysed": "analysées, réponse en préparation",
    "escalated": "transmises à la direction",
    "in_mediation": "en médiation",
    "answered": "répondues",
    "closed": "closes",
}
ACTION_STATUSES = {
    "draft": "brouillon",
    "proposed": "proposée",
    "validated": "validée",
    "in_progress": "en cours",
    "done": "terminée",
    "effective": "efficace",
    "not_effective": "non efficace",
    "reopened": "rouverte",
    "cancelled": "classée sans suite",
}
# What the sample leaves undone on purpose, as a network would on the day of an audit.
PLANTED = {
    "complaint_unanswered": (
        "réclamation reçue ces derniers jours (dont celle d'hier), le délai de réponse de "
        "15 jours court encore"
    ),
    "late": "quelques accusés de réception et réponses donnés en retard, comme dans la vie",
}


def say(text: str) -> None:
    """One line as is: no markup, no highlighting, no wrapping inside words."""
    console.print(text, markup=False, soft_wrap=True, highlight=False)


def number(value: int) -> str:
    return format_decimal(value, locale="fr_FR")


def _label(labels: Labels, key: str, count: int) -> str:
    label = labels.get(key, key)
    if isinstance(label, tuple):
        return label[0] if count < 2 else label[1]
    return label


def _counts(counts: Counter[str], labels: Labels) -> str:
    return ", ".join(
        f"{number(n)} {_label(labels, k, n)}"
        for k, n in sorted(counts.items(), key=lambda i: -i[1])
    )


def _place(scope: dict[str, Any]) -> str:
    site = scope.get("site_id")
    return site_label(site) if site else "réseau"


def explain(gap: dict[str, Any], planted: Collection[str] | None = None) -> str | None:
    """Why the sample has this gap, if it plants it on purpose (``planted``: the subjects it
    plants, when known)."""
    code = str(gap.get("code", ""))
    if code in PLANTED:
        return PLANTED[code] if planted is None or gap.get("subject") in planted else None
    if "late" in code or "overdue" in code:
        return PLANTED["late"]
    return None


def readiness_lines(
    gaps: list[dict[str, Any]], planted: Collection[str] | None = None
) -> list[str]:
    if not gaps:
        return ["Contrôle de préparation : rien à signaler."]
    lines = [f"Contrôle de préparation : {number(len(gaps))} écart(s)"]
    by_code: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for gap in gaps:
        why = explain(gap, planted)
        by_code.setdefault((str(gap.get("code", "?")), why or ""), []).append(gap)
    for (code, why), items in sorted(by_code.items()):
        message = items[0].get("message") or code
        verdict = f"voulu : {why}" if why else "INATTENDU, à examiner"
        sites = sorted({site_label(g["site"]) for g in items if g.get("site")})
        where = f" ({', '.join(sites)})" if sites else ""
        lines.append(f"  {number(len(items))} × {message}{where} — {verdict}")
    return lines


def unexpected(
    gaps: list[dict[str, Any]], planted: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """The gaps the sample does not plant: each one is a fault of the main job."""
    return [g for g in gaps if explain(g, planted) is None]


def print_summary(outcome: Outcome, network: SampleNetwork, folder: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(outcome.table.lstrip("\ufeff")), delimiter=";"))
    console.rule("Résumé")
    say(f"Référentiel envoyé : {_counts(outcome.names, NAMES)}")
    say(f"Faits acceptés : {_counts(outcome.sender.accepted, KINDS)}")
    say(f"Par canal : {_counts(outcome.sender.channels, CHANNELS)}")
    found = Counter(
        f"{_place(d['scope'])} — {DIMENSIONS.get(d.get('dimension') or '', 'ensemble')}"
        for d in outcome.degradations
    )
    say(f"Dégradations détectées : {number(len(outcome.degradations))}")
    for place, count in sorted(found.items()):
        say(f"  {number(count)} × {place}")
    say(f"Problèmes (dégradations groupées par cause) : {number(len(outcome.problems))}")
    for problem in outcome.problems:
        say(f"  {', '.join(_place(s) for s in problem['scopes'])}")
    people = outcome.people
    say(f"Réclamations et aléas : {_counts(people.cases, CASE_STATUSES)}")
    say(f"Réunions mensuelles d'analyse enregistrées : {number(people.meetings)}")
    say(f"Actions issues des problèmes : {number(sum(people.actions.values()))}")
    for line, count in sorted(people.actions.items()):
        title, _, status = line.rpartition(" → ")
        say(f"  {number(count)} × {title} → {ACTION_STATUSES.get(status, status)}")
    if people.wave_action:
        status = ACTION_STATUSES.get(people.wave_action, people.wave_action)
        say(f"Action corrective sur les attestations de présence : {status}")
    planted = network.complaints_still_due(ANSWER_DAYS)
    for line in readiness_lines(outcome.readiness, planted):
        say(line)
    sources = Counter(r.get("Source", "?") for r in rows)
    say(f"Tableau de suivi : {number(len(rows))} lignes ({_counts(sources, {})})")
    say(f"Dossier de preuves : {folder}")
