"""The improvement tracking table handed to French auditors, as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from boucle_contracts.cases.v1 import CaseSource, ComplaintCaseOpened, ComplaintCaseOpenedV1
from boucle_contracts.common import Period
from boucle_contracts.examples import example_of
from boucle_contracts.metrics.v1 import DimensionFigures, Granularity, ScopeMetricsUpdated
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_reporter.domain.tracking import COLUMNS, TrackingRow, analysis_row, case_row, to_csv

pytestmark = pytest.mark.unit

HEADERS = [
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
]


def _month(
    site_id: str,
    year: int,
    month: int,
    dimensions: tuple[DimensionFigures, ...],
    *,
    responses: int | None = None,
) -> ScopeMetricsUpdated:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return ScopeMetricsUpdated(
        scope=Scope(level=ScopeLevel.SITE, network_id="net-1", site_id=site_id),
        granularity=Granularity.MONTH,
        period=Period(start=start, end=end),
        responses=max((d.count for d in dimensions), default=0) if responses is None else responses,
        dimensions=dimensions,
        revision=1,
        last_event_id="evt-1",
    )


def _overall(ratings: list[int]) -> DimensionFigures:
    return DimensionFigures(
        dimension="overall",
        count=len(ratings),
        total=float(sum(ratings)),
        total_squares=float(sum(r * r for r in ratings)),
        satisfied=sum(r >= 4 for r in ratings),
    )


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def test_the_table_opens_in_a_french_excel_with_its_french_headers() -> None:
    text = to_csv([])

    assert text.startswith("\ufeff")
    assert text.endswith("\r\n")
    assert text.removeprefix("\ufeff").split("\r\n")[0] == ";".join(HEADERS)
    assert list(COLUMNS) == HEADERS


def test_an_analysis_row_reads_as_an_auditor_expects() -> None:
    row = analysis_row(_month("lyon", 2025, 3, (_overall([3, 4]),)))

    assert row.cells() == (
        "2025-03-01",
        "lyon",
        "Analyse des appréciations",
        "analyse-lyon-2025-03",
        "2 réponse(s), satisfaction moyenne 3,5/5, taux de satisfaction 50 %",
        "",
        "",
        "",
        "",
        "Analysé",
        "",
    )


@pytest.mark.parametrize(
    ("ratings", "mean", "rate"),
    [
        ([5, 4, 4], "4,3/5", "100 %"),
        ([1, 2, 4], "2,3/5", "33 %"),
        ([4, 4, 5, 1, 1, 1], "2,7/5", "50 %"),
    ],
)
def test_figures_use_french_decimals(ratings: list[int], mean: str, rate: str) -> None:
    finding = analysis_row(_month("lyon", 2025, 3, (_overall(ratings),))).finding

    assert f"satisfaction moyenne {mean}" in finding
    assert f"taux de satisfaction {rate}" in finding
    assert "." not in finding


def test_without_overall_ratings_only_the_response_count_is_given() -> None:
    platform = _overall([2, 2]).model_copy(update={"dimension": "platform"})

    row = analysis_row(_month("lyon", 2025, 3, (platform,), responses=3))

    assert row.finding == "3 réponse(s)"


def test_a_case_row_shows_source_reference_summary_due_date_and_status() -> None:
    case = example_of(ComplaintCaseOpenedV1).data

    row = case_row(case, "lyon-part-dieu", "Reçue")

    assert row.cells() == (
        "2025-03-17",
        "lyon-part-dieu",
        "Réclamation",
        "rec-2025-012",
        "Salariés bloqués par les coupures de la plateforme",
        "",
        "",
        "",
        "2025-03-31",
        "Reçue",
        "",
    )


@pytest.mark.parametrize(
    ("source", "label"), [(CaseSource.HAZARD, "Aléa"), (CaseSource.DIFFICULTY, "Difficulté")]
)
def test_incident_rows_name_their_kind_in_french(source: CaseSource, label: str) -> None:
    case: ComplaintCaseOpened = example_of(ComplaintCaseOpenedV1).data.model_copy(
        update={"source": source, "answer_due_at": None, "acknowledge_due_at": None}
    )

    row = case_row(case, None, "Reçue")

    assert (row.source, row.site, row.due) == (label, "", "")


def test_rows_are_sorted_by_date_then_site() -> None:
    case = example_of(ComplaintCaseOpenedV1).data  # 2025-03-17
    rows = [
        case_row(case, "lyon-part-dieu", "Reçue"),
        analysis_row(_month("paris", 2025, 4, (_overall([4]),))),
        analysis_row(_month("paris", 2025, 3, (_overall([4]),))),
        analysis_row(_month("lyon", 2025, 3, (_overall([4]),))),
        analysis_row(_month("lyon", 2024, 12, (_overall([4]),))),
    ]

    body = _parse(to_csv(rows))[1:]

    assert [(r[0], r[1]) for r in body] == [
        ("2024-12-01", "lyon"),
        ("2025-03-01", "lyon"),
        ("2025-03-01", "paris"),
        ("2025-03-17", "lyon-part-dieu"),
        ("2025-04-01", "paris"),
    ]


def test_cells_with_separators_and_quotes_survive_the_round_trip() -> None:
    row = TrackingRow(
        date=datetime(2025, 3, 17, tzinfo=UTC),
        site="lyon",
        source="Réclamation",
        reference="rec-1",
        finding='Plateforme "HS"; formateur absent\npuis retard',
    )

    (header, parsed) = _parse(to_csv([row]))

    assert header == HEADERS
    assert parsed[4] == 'Plateforme "HS"; formateur absent\npuis retard'
    assert len(parsed) == len(HEADERS)
