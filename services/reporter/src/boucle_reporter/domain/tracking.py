"""The improvement tracking table (tableau de suivi des mesures d'amélioration). Pure.

One row per source an auditor follows: each complaint, hazard or difficulty case, each
improvement action, and each monthly analysis of a site's survey responses, with what
was done about it. Column titles are French: the table is handed to French auditors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from boucle_contracts.cases.v1 import CaseSource, ComplaintCaseOpened
from boucle_contracts.metrics.v1 import ScopeMetricsUpdated

COLUMNS = (
    "Date",
    "Site",
    "Source",
    "Référence",
    "Constat",
    "Analyse",
    "Mesure",
    "Responsable",
    "Échéance",
    "Statut",
    "Efficacité",
)

SOURCE_LABELS = {
    CaseSource.COMPLAINT: "Réclamation",
    CaseSource.HAZARD: "Aléa",
    CaseSource.DIFFICULTY: "Difficulté",
}


@dataclass(frozen=True, slots=True)
class TrackingRow:
    date: datetime
    site: str
    source: str
    reference: str
    finding: str
    analysis: str = ""
    measure: str = ""
    owner: str = ""
    due: str = ""
    status: str = ""
    effectiveness: str = ""

    def cells(self) -> tuple[str, ...]:
        return (
            self.date.date().isoformat(),
            self.site,
            self.source,
            self.reference,
            self.finding,
            self.analysis,
            self.measure,
            self.owner,
            self.due,
            self.status,
            self.effectiveness,
        )


def _decimal(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def analysis_row(snapshot: ScopeMetricsUpdated) -> TrackingRow:
    """A site's month of survey responses, summarised as an auditor reads it."""
    overall = next((d for d in snapshot.dimensions if d.dimension == "overall"), None)
    figures = [f"{snapshot.responses} réponse(s)"]
    if overall and overall.mean is not None and overall.satisfaction_rate is not None:
        figures.append(f"satisfaction moyenne {_decimal(overall.mean)}/5")
        figures.append(f"taux de satisfaction {_decimal(100 * overall.satisfaction_rate, 0)} %")
    month = snapshot.period.start.strftime("%Y-%m")
    return TrackingRow(
        date=snapshot.period.start,
        site=snapshot.scope.site_id or "",
        source="Analyse des appréciations",
        reference=f"analyse-{snapshot.scope.site_id}-{month}",
        finding=", ".join(figures),
        status="Analysé",
    )


def case_row(case: ComplaintCaseOpened, site_id: str | None, status: str) -> TrackingRow:
    return TrackingRow(
        date=case.opened_at,
        site=site_id or "",
        source=SOURCE_LABELS[case.source],
        reference=case.source_ref,
        finding=case.summary,
        due=case.answer_due_at.date().isoformat() if case.answer_due_at else "",
        status=status,
    )


def to_csv(rows: Iterable[TrackingRow]) -> str:
    """Semicolon-separated with a BOM: opens as columns in a French Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in sorted(rows, key=lambda r: (r.date, r.site, r.reference)):
        writer.writerow(row.cells())
    return "\ufeff" + buffer.getvalue()
