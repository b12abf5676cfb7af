"""The improvement tracking table handed to French auditors: rows and CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime

import pytest
from bench.reporter.scenario import (
    NETWORK,
    NOW,
    PERIOD,
    action,
    action_step,
    at,
    evaluated,
    replayed,
)

from boucle_contracts.actions.v1 import (
    ActionStatus,
    ImprovementActionUpdated,
    ImprovementActionUpdatedV1,
    KpiTarget,
    StakeholderNotice,
)
from boucle_contracts.common import Period
from boucle_contracts.metrics.v1 import (
    DimensionFigures,
    Granularity,
    ScopeMetricsUpdated,
    ScopeMetricsUpdatedV1,
)
from boucle_contracts.referential.v1 import PersonNamed, PersonNamedV1, SiteNamed, SiteNamedV1
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.projection import writes_for
from boucle_reporter.domain.read_model import (
    ActionView,
    AnalysisView,
    CaseView,
    Effect,
    Kpi,
    MeetingView,
    Names,
    Notice,
    Person,
)
from boucle_reporter.domain.tracking import (
    COLUMNS,
    TrackingRow,
    action_row,
    analysis_row,
    case_row,
    columns,
    measure_rows,
    to_csv,
    tracking_rows,
)
from boucle_reporter.domain.view_builders import analysis_view
from boucle_reporter.pack import load_pack

pytestmark = pytest.mark.unit

HEADERS = [
    "Date",
    "Site",
    "Source",
    "Références des sources",
    "Constat",
    "Analyse des causes",
    "Chiffres constatés",
    "Réponse apportée (correction)",
    "Mesure",
    "Action d'amélioration",
    "Objectif et indicateur de réussite",
    "Responsable",
    "Validée par",
    "Validée le",
    "Échéance",
    "Début",
    "Fin",
    "Statut",
    "Efficacité",
    "Parties prenantes informées",
]
EMPTY_AFTER_FINDING = 12  # from the analysis to the status


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
    acknowledged_at=datetime(2025, 3, 18, 8, tzinfo=UTC),
    answered_at=datetime(2025, 3, 20, 10, tzinfo=UTC),
    root_cause="Hébergeur saturé",
    answer="Nous avons changé d'hébergeur.",
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
    assert columns("en")[4:9] == (
        "Finding",
        "Root-cause analysis",
        "Figures observed",
        "Answer given (correction)",
        "Measure",
    )


def test_an_analysis_row_reads_as_an_auditor_expects() -> None:
    row = analysis_row(_month("lyon", 2025, 3, (_overall([3, 4]),)))

    assert row.cells() == (
        "2025-03-01",
        "lyon",
        "Analyse des appréciations",
        "analyse-lyon-2025-03",
        "2 réponse(s), satisfaction moyenne 3,5/5, taux de satisfaction 50 %",
        *[""] * EMPTY_AFTER_FINDING,
        "Analysé",
        "",
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


def test_a_case_row_says_what_was_answered_and_which_measures_came_of_it() -> None:
    action = dataclasses.replace(ACTION, measures=("Changer d'hébergeur", "Suivre la charge"))

    row = case_row(CASE, "fr", [action])

    assert row.cells() == (
        "2025-03-17",
        "lyon-part-dieu",
        "Réclamation",
        "rec-2025-012",
        "Salariés bloqués par les coupures de la plateforme",
        "Hébergeur saturé",
        "",
        "Nous avons changé d'hébergeur.",
        "Changer d'hébergeur ; Suivre la charge",
        "act-1",
        "",
        "",
        "",
        "",
        "2025-03-31",
        "2025-03-18",
        "2025-03-20",
        "Répondue",
        "",
        "",
    )


def test_an_answered_complaint_without_action_says_no_measure_came_of_it() -> None:
    answered = dataclasses.replace(CASE, action_ids=())
    received = dataclasses.replace(CASE, action_ids=(), answered_at=None, status="received")

    assert case_row(answered).measure == "Aucune mesure d'amélioration (réponse seule)"
    assert case_row(received).measure == ""


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


def test_an_action_without_measures_has_one_row_saying_so() -> None:
    row = action_row(ACTION)

    assert row.values() == (
        date(2025, 3, 18),
        "lyon-part-dieu",
        "Réclamation",
        "rec-2025-012",
        "Coupures de la plateforme",
        "Hébergeur saturé",
        "",
        "",
        "Aucune mesure enregistrée",
        "act-1",
        "",
        "resp-it",
        "",
        None,
        date(2025, 4, 30),
        date(2025, 3, 21),
        date(2025, 4, 20),
        "Réalisée",
        "Efficace",
        "",
    )


def test_each_measure_is_a_row_linked_to_its_sources_with_names_and_figures() -> None:
    meeting = MeetingView(
        meeting_id="mtg-1",
        site_id=None,
        held_at=datetime(2025, 3, 18, 9, tzinfo=UTC),
        title="Réunion d'analyse de mars",
        decisions=("Changer d'hébergeur",),
    )
    action = dataclasses.replace(
        ACTION,
        measures=("Changer d'hébergeur", '=HYPERLINK("x")'),
        objective="Plus aucune coupure en classe virtuelle",
        target=Kpi("mean_satisfaction", 4.18, "platform", 3.39),
        figures="La satisfaction moyenne (plateforme) est passée de 4,18 à 3,39",
        validated_by="usr-dir",
        validated_at=datetime(2025, 3, 19, 11, tzinfo=UTC),
        meeting_id="mtg-1",
        stakeholders=(
            Notice("Apprenants de la session", datetime(2025, 4, 2, tzinfo=UTC), "e-mail"),
        ),
        effect=Effect("mean_satisfaction", 3.39, 95, 4.1, 88),
    )
    names = Names(
        sites={"lyon-part-dieu": "Lyon Part-Dieu"},
        people={
            "resp-it": Person("Karim Benali", "Responsable des systèmes d'information"),
            "usr-dir": Person("Claire Martin", role="director"),
        },
    )

    first, second = measure_rows(action, "fr", names, {"mtg-1": meeting})

    assert (first.measure, second.measure) == ("Changer d'hébergeur", '=HYPERLINK("x")')
    assert second.cells()[8] == '\'=HYPERLINK("x")', "a formula stays text"
    assert first.site == "Lyon Part-Dieu"
    assert first.source == "Réclamation, Réunion d'analyse"
    assert first.reference == "rec-2025-012, Réunion du 18/03/2025"
    assert first.analysis == "Hébergeur saturé"
    assert first.figures.startswith("La satisfaction moyenne (plateforme)")
    assert first.objective == (
        "Plus aucune coupure en classe virtuelle ; "
        "Satisfaction moyenne (plateforme) : 3,39 → objectif 4,18"
    )
    assert first.owner == "Karim Benali (Responsable des systèmes d'information)"
    assert (first.validated_by, first.validated_on) == (
        "Claire Martin (Direction)",
        date(2025, 3, 19),
    )
    assert first.effectiveness == "Efficace : 3,39 (n = 95) avant, 4,10 (n = 88) après"
    assert first.informed == "Apprenants de la session (e-mail, le 02/04/2025)"
    rows = tracking_rows(analyses=[], cases=[CASE], actions=[action], meetings=[meeting])
    assert [(r.source, r.action) for r in rows] == [
        ("Réclamation", "act-1"),  # the complaint: its answer, the action of it
        ("Réunion d'analyse", "act-1"),  # the network's meeting that decided it
        ("Réclamation, Réunion d'analyse", "act-1"),  # each measure, back to both
        ("Réclamation, Réunion d'analyse", "act-1"),
    ]


def test_a_reopened_action_has_no_end_nor_the_validation_of_its_earlier_plan() -> None:
    reopened = dataclasses.replace(
        ACTION,
        status="reopened",
        outcome="not_effective",
        validated_by="usr-dir",
        validated_at=datetime(2025, 3, 19, tzinfo=UTC),
    )

    row = action_row(reopened)

    assert (row.finished, row.validated_by, row.validated_on) == (None, "", None)
    assert (row.status, row.effectiveness) == ("Rouverte", "Non efficace")


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

    assert [(r[0], r[1], r[3], r[9]) for r in body] == [
        ("2024-12-01", "lyon", "analyse-lyon-2024-12", ""),
        ("2025-03-01", "paris", "analyse-paris-2025-03", ""),
        ("2025-03-17", "lyon-part-dieu", "rec-2025-012", "act-1"),
        ("2025-03-18", "lyon-part-dieu", "rec-2025-012", "act-1"),
        ("2025-04-01", "paris", "analyse-paris-2025-04", ""),
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


async def test_from_the_events_to_the_table_each_measure_with_names_and_figures() -> None:
    """What the actions service publishes (contracts 1.1) and the referential's names,
    through the projection and the read model, to the rows an auditor reads."""
    created = action("lyon", "act-9", 3, kind="complaint", ref="rec-1")
    created = created.model_copy(
        update={
            "data": created.data.model_copy(
                update={
                    "measures": ("Changer d'hébergeur", "Suivre la charge chaque semaine"),
                    "objective": "Plus aucune coupure",
                    "root_cause_analysis": "Hébergeur saturé aux heures de cours",
                    "kpi": KpiTarget(
                        metric=Metric.MEAN_SATISFACTION, dimension="platform", target=4.0
                    ),
                    "status": ActionStatus.PROPOSED,
                }
            )
        }
    )
    validated = action_step("lyon", "act-9", 2, ActionStatus.VALIDATED, at(3, 22))
    validated = validated.model_copy(
        update={"data": validated.data.model_copy(update={"actor": "usr-dir"})}
    )
    informed = ImprovementActionUpdatedV1.create(
        network_id=NETWORK,
        site_id="lyon",
        source="/tests",
        data=ImprovementActionUpdated(
            action_id="act-9",
            at=at(4, 2),
            actor="usr-qualite",
            revision=4,
            fields=("stakeholders_informed",),
            title="Mesure act-9",
            owner="resp-qualite",
            measures=created.data.measures,
            stakeholders_informed=(
                StakeholderNotice(who="Apprenants", when=at(4, 2), how="e-mail"),
            ),
        ),
    )
    named: list[AnyEvent] = [
        SiteNamedV1.create(
            network_id=NETWORK,
            site_id="lyon",
            source="/tests",
            data=SiteNamed(site_id="lyon", name="Lyon Part-Dieu"),
        ),
        PersonNamedV1.create(
            network_id=NETWORK,
            source="/tests",
            data=PersonNamed(person_id="usr-dir", name="Paul Durand", role="director"),
        ),
    ]
    events: list[AnyEvent] = [
        created,
        validated,
        action_step("lyon", "act-9", 3, ActionStatus.IN_PROGRESS, at(4, 1)),
        informed,
        action_step("lyon", "act-9", 5, ActionStatus.DONE, at(5, 15)),
        evaluated("lyon", "act-9", 6, "effective"),
        *named,
    ]
    _, read_model = await replayed(events)
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1])

    data = await load_pack(read_model, request, NOW)
    rows = tracking_rows(analyses=[], cases=[], actions=data.actions, names=data.names)

    assert [r.measure for r in rows] == ["Changer d'hébergeur", "Suivre la charge chaque semaine"]
    row = rows[0]
    assert (row.site, row.source, row.reference) == ("Lyon Part-Dieu", "Réclamation", "rec-1")
    assert row.analysis == "Hébergeur saturé aux heures de cours"
    assert (
        row.objective == "Plus aucune coupure ; Satisfaction moyenne (plateforme) : objectif 4,00"
    )
    assert (row.validated_by, row.validated_on) == ("Paul Durand (Direction)", date(2025, 3, 22))
    assert row.informed == "Apprenants (e-mail, le 02/04/2025)"
    assert row.effectiveness == "Efficace : 2,40 (n = 40) avant, 4,10 (n = 45) après"
    assert (row.started, row.finished, row.status) == (
        date(2025, 4, 1),
        date(2025, 5, 15),
        "Réalisée",
    )


def test_a_complaint_an_action_names_among_its_sources_leads_to_that_action() -> None:
    # A draft for a problem names the complaints of its weeks as sources; the case itself
    # lists no action: the complaint's row still names the measure.
    unlisted = dataclasses.replace(CASE, action_ids=())
    action = dataclasses.replace(ACTION, case_ids=(), measures=("Changer d'hébergeur",))

    rows = tracking_rows(analyses=[], cases=[unlisted], actions=[action])

    complaint_line, measure_line = sorted(rows, key=lambda r: r.cells()[0])
    assert complaint_line.cells()[7] == "Nous avons changé d'hébergeur."  # the answer
    assert complaint_line.cells()[8:10] == ("Changer d'hébergeur", "act-1")
    assert measure_line.cells()[3] == "rec-2025-012"  # and back from the measure
