"""The improvement tracking table handed to French auditors: rows and CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime

import pytest

from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import (
    DimensionFigures,
    Granularity,
    ScopeMetricsUpdated,
    ScopeMetricsUpdatedV1,
)
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_reporter.domain.projection import writes_for
from boucle_reporter.domain.read_model import ActionView, AnalysisView, CaseView
from boucle_reporter.domain.tracking import (
    COLUMNS,
    TrackingRow,
    action_row,
    analysis_row,
    case_row,
    columns,
    to_csv,
    tracking_rows,
)
from boucle_reporter.domain.view_builders import analysis_view

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
    "Début",
    "Fin",
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
) -> AnalysisView:
    """A site's month of figures, the way the table gets it: event, document, view."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    snapshot = ScopeMetricsUpdated(
        scope=Scope(level=ScopeLevel.SITE, network_id="net-1", site_id=site_id),
        granularity=Granularity.MONTH,
        period=Period(start=start, end=end),
        responses=max((d.count for d in dimensions), default=0) if responses is None else responses,
        dimensions=dimensions,
        revision=1,
        last_event_id="evt-1",
    )
    event = ScopeMetricsUpdatedV1.create(
        data=snapshot, network_id="net-1", site_id=site_id, source="/tests", time=end
    )
    (write,) = [w for w in writes_for(event, 1) if w.collection == "analyses"]
    return analysis_view(write.new_document())


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


CASE = CaseView(
    case_id="case-1",
    site_id="lyon-part-dieu",
    source="complaint",
    source_ref="rec-2025-012",
    opened_at=datetime(2025, 3, 17, 10, tzinfo=UTC),
    summary="Salariés bloqués par les coupures de la plateforme",
    status="answered",
    answer_due_at=datetime(2025, 3, 31, 10, tzinfo=UTC),
    answered_at=datetime(2025, 3, 20, 10, tzinfo=UTC),
    root_cause="Hébergeur saturé",
    action_ids=("act-1",),
)
ACTION = ActionView(
    action_id="act-1",
    site_id="lyon-part-dieu",
    title="Changer d'hébergeur",
    problem="Coupures de la plateforme",
    origin="complaint_case",
    source_kinds=("complaint",),
    source_refs=("rec-2025-012",),
    status="done",
    created_at=datetime(2025, 3, 18, 9, tzinfo=UTC),
    owner="resp-it",
    due_date=date(2025, 4, 30),
    started_at=datetime(2025, 3, 21, tzinfo=UTC),
    finished_at=datetime(2025, 4, 20, tzinfo=UTC),
    analysis="Hébergeur saturé",
    outcome="effective",
)


def test_the_table_opens_in_a_french_excel_with_its_french_headers() -> None:
    text = to_csv([])

    assert text.startswith("\ufeff")
    assert text.endswith("\r\n")
    assert text.removeprefix("\ufeff").split("\r\n")[0] == ";".join(HEADERS)
    assert list(COLUMNS) == HEADERS
    assert columns("en")[4:7] == ("Finding", "Analysis", "Measure")


def test_an_analysis_row_reads_as_an_auditor_expects() -> None:
    row = analysis_row(_month("lyon", 2025, 3, (_overall([3, 4]),)))

    assert row.cells() == (
        "2025-03-01",
        "lyon",
        "Analyse des appréciations",
        "analyse-lyon-2025-03",
        "2 réponse(s), satisfaction moyenne 3,5/5, taux de satisfaction 50 %",
        *[""] * 6,
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
    observed = analysis_row(_month("lyon", 2025, 3, (_overall(ratings),))).observed

    assert f"satisfaction moyenne {mean}" in observed
    assert f"taux de satisfaction {rate}" in observed
    assert "." not in observed


def test_english_figures_use_decimal_points() -> None:
    observed = analysis_row(_month("lyon", 2025, 3, (_overall([3, 4]),)), "en").observed

    assert observed == "2 response(s), mean satisfaction 3.5/5, satisfaction rate 50 %"


def test_without_overall_ratings_only_the_response_count_is_given() -> None:
    platform = _overall([2, 2]).model_copy(update={"dimension": "platform"})

    row = analysis_row(_month("lyon", 2025, 3, (platform,), responses=3))

    assert row.observed == "3 réponse(s)"


def test_a_case_row_shows_source_cause_measure_due_date_and_status() -> None:
    row = case_row(CASE, "fr", ["Changer d'hébergeur"])

    assert row.cells() == (
        "2025-03-17",
        "lyon-part-dieu",
        "Réclamation",
        "rec-2025-012",
        "Salariés bloqués par les coupures de la plateforme",
        "Hébergeur saturé",
        "Changer d'hébergeur",
        "",
        "2025-03-31",
        "",
        "2025-03-20",
        "Répondue",
        "",
    )


@pytest.mark.parametrize(("source", "label"), [("hazard", "Aléa"), ("difficulty", "Difficulté")])
def test_incident_rows_name_their_kind_in_french(source: str, label: str) -> None:
    case = CaseView(
        case_id="c",
        site_id=None,
        source=source,
        source_ref="ale-1",
        opened_at=CASE.opened_at,
        summary="Formateur absent",
        status="received",
    )

    row = case_row(case)

    assert (row.source, row.site, row.due, row.status) == (label, "", None, "Reçue")


def test_an_action_row_carries_owner_dates_status_and_effectiveness() -> None:
    row = action_row(ACTION)

    assert row.values() == (
        date(2025, 3, 18),
        "lyon-part-dieu",
        "Réclamation",
        "act-1",
        "Coupures de la plateforme",
        "Hébergeur saturé",
        "Changer d'hébergeur",
        "resp-it",
        date(2025, 4, 30),
        date(2025, 3, 21),
        date(2025, 4, 20),
        "Réalisée",
        "Efficace",
    )


def test_a_finished_action_never_evaluated_says_so() -> None:
    row = action_row(ACTION)
    unevaluated = action_row(dataclasses.replace(ACTION, outcome=None))

    assert row.effectiveness == "Efficace"
    assert unevaluated.effectiveness == "Non évaluée"


def test_rows_are_sorted_by_date_then_site() -> None:
    rows = [
        *tracking_rows(analyses=[], cases=[CASE], actions=[ACTION]),
        analysis_row(_month("paris", 2025, 4, (_overall([4]),))),
        analysis_row(_month("paris", 2025, 3, (_overall([4]),))),
        analysis_row(_month("lyon", 2024, 12, (_overall([4]),))),
    ]

    body = _parse(to_csv(rows))[1:]

    assert [(r[0], r[1], r[3]) for r in body] == [
        ("2024-12-01", "lyon", "analyse-lyon-2024-12"),
        ("2025-03-01", "paris", "analyse-paris-2025-03"),
        ("2025-03-17", "lyon-part-dieu", "rec-2025-012"),
        ("2025-03-18", "lyon-part-dieu", "act-1"),
        ("2025-04-01", "paris", "analyse-paris-2025-04"),
    ]


def test_cells_with_separators_and_quotes_survive_the_round_trip() -> None:
    row = TrackingRow(
        date=date(2025, 3, 17),
        site="lyon",
        source="Réclamation",
        reference="rec-1",
        observed='Plateforme "HS"; formateur absent\npuis retard',
    )

    (header, parsed) = _parse(to_csv([row]))

    assert header == HEADERS
    assert parsed[4] == 'Plateforme "HS"; formateur absent\npuis retard'
    assert len(parsed) == len(HEADERS)
