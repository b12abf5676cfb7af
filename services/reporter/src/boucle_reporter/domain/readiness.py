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
    gaps: list[Gap] = []
    for site in data.sites:
        if site not in data.last_funder_feedback:
            gaps.append(Gap(30, "no_funder_feedback", site, site))
    cases = {c.source_ref: c for c in data.cases if c.source == "complaint"}
    complaint_refs = {c.complaint_id for c in data.complaints} | set(cases)
    for ref in sorted(complaint_refs):
        case = cases.get(ref)
        if case is None or (case.answered_at is None and case.status not in ANSWERED):
            where = case.site_id if case else _complaint_site(data, ref)
            gaps.append(Gap(31, "complaint_unanswered", where or "", ref))
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
    for degradation in data.degradations:
        if degradation.degradation_id not in addressed:
            gaps.append(
                Gap(
                    32,
                    "degradation_no_action",
                    degradation.site_id or "",
                    degradation.degradation_id,
                )
            )
    return sorted(gaps, key=lambda g: (g.indicator, g.code, g.site, g.subject))


def _complaint_site(data: PackData, complaint_id: str) -> str | None:
    return next((c.site_id for c in data.complaints if c.complaint_id == complaint_id), None)


def evidence_gaps(network_id: str, *, signed: bool) -> list[Gap]:
    """Gaps of the evidence log itself (the dossier's readiness check)."""
    return [] if signed else [Gap(32, "evidence_unsigned", "", network_id)]
