"""The readiness check: the gaps an auditor would flag, found before the audit. Pure.

- indicator 30: a site with no funder feedback in the 12 months before the period's end;
- indicator 31: a complaint without an answer;
- indicator 32: an action without an owner or a due date, a finished action never
  evaluated, a degradation no action addresses;
- the evidence log: chain heads the reporter cannot sign (no key configured), so an
  auditor cannot tell a rewritten tail from the original.

Bodies erased from the evidence log (GDPR) are counted beside the gaps, not as gaps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from boucle_reporter.domain.i18n import translate
from boucle_reporter.domain.read_model import PackData

ANSWERED = frozenset({"answered", "closed"})


@dataclass(frozen=True, slots=True)
class Gap:
    """One thing missing that an auditor would flag (écart), for one site and subject."""

    indicator: int
    code: str
    site: str
    subject: str

    def message(self, language: str = "fr") -> str:
        return translate(language, f"ready.{self.code}")

    def report(self, language: str = "fr") -> dict[str, Any]:
        """As the API and ``controle-preparation.json`` give it: fields and message."""
        return asdict(self) | {"message": self.message(language)}


def readiness(data: PackData) -> list[Gap]:
    gaps = [*_collection_gaps(data), *_complaint_gaps(data), *_improvement_gaps(data)]
    return sorted(gaps, key=lambda g: (g.indicator, g.code, g.site, g.subject))


def _collection_gaps(data: PackData) -> list[Gap]:
    """Indicator 30."""
    gaps = [
        Gap(30, "no_funder_feedback", site, site)
        for site in data.sites
        if site not in data.last_funder_feedback
    ]
    return gaps + _groups_not_asked(data)


def _complaint_gaps(data: PackData) -> list[Gap]:
    """Indicator 31."""
    gaps = []
    cases = {c.source_ref: c for c in data.cases if c.source == "complaint"}
    complaint_refs = {c.complaint_id for c in data.complaints} | set(cases)
    for ref in sorted(complaint_refs):
        case = cases.get(ref)
        if case is None or (case.answered_at is None and case.status not in ANSWERED):
            where = case.site_id if case else _complaint_site(data, ref)
            gaps.append(Gap(31, "complaint_unanswered", where or "", ref))
    return gaps


def _improvement_gaps(data: PackData) -> list[Gap]:
    """Indicator 32."""
    gaps = []
    addressed: set[str] = set()
    for action in data.actions:
        addressed.update(action.source_refs)
        if action.status == "cancelled":
            continue
        site = action.site_id or ""
        if not action.owner:
            gaps.append(Gap(32, "action_no_owner", site, action.action_id))
        if action.due_date is None:
            gaps.append(Gap(32, "action_no_due", site, action.action_id))
        if action.finished and action.outcome is None:
            gaps.append(Gap(32, "action_not_evaluated", site, action.action_id))
    # An action drafted for a problem names the degradations it had then; those that
    # joined the problem later (or the network's, explained by its sites) share its action.
    for group in data.problem_groups:
        if group & addressed:
            addressed |= group
    gaps += [
        Gap(32, "degradation_no_action", d.site_id or "", d.degradation_id)
        for d in data.degradations
        if d.degradation_id not in addressed
    ]
    return gaps


def _complaint_site(data: PackData, complaint_id: str) -> str | None:
    return next((c.site_id for c in data.complaints if c.complaint_id == complaint_id), None)


def evidence_gaps(network_id: str, *, signed: bool) -> list[Gap]:
    """Gaps of the evidence log itself (the dossier's readiness check)."""
    return [] if signed else [Gap(32, "evidence_unsigned", "", network_id)]


def _groups_not_asked(data: PackData) -> list[Gap]:
    """Indicator 30, where a collection plan exists: a stakeholder group of a site that the
    plan covers and nobody asked in the 12 months before the period's end (yearly groups:
    asked network-wide)."""
    collection = data.collection
    if collection.plan is None:
        return []
    gaps = []
    for rule in collection.plan.rules:
        role = str(rule["stakeholder"])
        label = translate("fr", f"plan.role.{role}")
        if (None, role) in collection.last_asked:
            continue
        if rule["trigger"] == "yearly":
            gaps.append(Gap(30, "group_not_solicited", "", label))
            continue
        gaps += [
            Gap(30, "group_not_solicited", site, label)
            for site in data.sites
            if (site, role) not in collection.last_asked
        ]
    return list(dict.fromkeys(gaps))
