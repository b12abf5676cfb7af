"""Erasure and retention of evidence bodies: which events belong to which data family. Pure.

Erasing nulls an entry's body (v2 entries only: see ``chain.py``) and keeps its link, so
the chain still verifies. Two causes:

- a data subject's request: every entry indexed with their pseudonym (``subjects``);
- retention: entries older than their family's period, by the event's time.

Families (settings ``RETENTION_<FAMILY>_DAYS``): ``responses`` (feedback), ``complaints``
(incidents and cases), ``training`` (enrolments, completions, dropouts), ``evidence``
(everything else: figures, degradations, actions, meetings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

FAMILIES: Mapping[str, frozenset[str]] = {
    "responses": frozenset({"feedback"}),
    "complaints": frozenset({"incidents", "cases"}),
    "training": frozenset({"training"}),
}
OTHER = "evidence"
SUBJECT_REQUEST = "subject_request"  # reason of an erasure asked by the data subject


def family_of(event_type: str) -> str:
    """``fr.boucle.<family>.<name>.v<n>`` → the data family its retention follows."""
    parts = event_type.split(".")
    topic_family = parts[2] if len(parts) > 2 else ""
    return next((f for f, members in FAMILIES.items() if topic_family in members), OTHER)


def types_by_family(event_types: Iterable[str]) -> dict[str, list[str]]:
    """Known event types grouped by data family (queries list them: old entries too)."""
    grouped: dict[str, list[str]] = {f: [] for f in (*FAMILIES, OTHER)}
    for event_type in sorted(event_types):
        grouped[family_of(event_type)].append(event_type)
    return grouped


def cutoffs(days: Mapping[str, int | None], now: datetime) -> dict[str, datetime]:
    """Family → the moment before which bodies are erased (families kept forever absent)."""
    return {family: now - timedelta(days=n) for family, n in days.items() if n}


def retention_reason(family: str) -> str:
    return f"retention:{family}"


@dataclass(frozen=True, slots=True)
class Erasure:
    """How many bodies one cause erased on one day, in one network (the dossier lists it)."""

    network_id: str
    day: str  # ISO date
    reason: str  # subject_request, retention:<family>
    entries: int

    def report(self) -> dict[str, object]:
        return {"day": self.day, "reason": self.reason, "entries": self.entries}
