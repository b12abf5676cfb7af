"""The query API over in-memory stores: figures and KPIs, degradations, emerging terms.

Callers hold a quality lead's token unless a test says otherwise (access rules:
``test_analyzer_access.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.domain.ports import Position
from boucle_contracts.common import Period
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmittedV1
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation
from tests.unit.analyzer.analyzer_api_support import EXAMPLE, NETWORK, SITE, Api

pytestmark = pytest.mark.unit


async def test_figures_of_a_site_by_month_with_kpis() -> None:
    api = Api()
    await api.handler.handle(EXAMPLE, Position("t", 0, 1))

    reply = await api.http.get(
        f"/v1/networks/{NETWORK}/figures", params={"level": "site", "site_id": SITE}
    )

    assert reply.status_code == 200, reply.text
    [figures] = reply.json()
    assert figures["scope"]["site_id"] == SITE
    assert figures["granularity"] == "month"
    assert figures["responses"] == 1
    assert figures["kpis"]["mean_satisfaction"] is not None


async def test_another_network_sees_nothing() -> None:
    api = Api(network_id="another-network")  # its own quality lead
    await api.handler.handle(EXAMPLE, Position("t", 0, 1))

    reply = await api.http.get("/v1/networks/another-network/figures")

    assert reply.status_code == 200
    assert reply.json() == []


async def test_periods_filter_by_start() -> None:
    api = Api()
    await api.handler.handle(EXAMPLE, Position("t", 0, 1))
    after = (EXAMPLE.data.submitted_at + timedelta(days=40)).isoformat()

    reply = await api.http.get(f"/v1/networks/{NETWORK}/figures", params={"from": after})

    assert reply.json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"granularity": "year"}, "granularity"),
        ({"level": "galaxy"}, "level"),
        ({"from": "2025-03-01T00:00:00"}, "from"),  # naive: refused
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_filters_are_refused_naming_the_field(params: dict[str, str], field: str) -> None:
    reply = await Api().http.get(f"/v1/networks/{NETWORK}/figures", params=params)

    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-1] == field


async def test_bad_network_id_is_refused() -> None:
    reply = await Api().http.get("/v1/networks/bad%20id/figures")

    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["path", "network_id"]


async def test_open_and_all_degradations() -> None:
    api = Api()
    week = datetime(2025, 3, 10, tzinfo=UTC)
    observation = Observation(
        value=3.1, sample_size=40, period=Period(start=week, end=week + timedelta(days=7))
    )
    scope = Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=SITE)

    def degradation(number: int, resolved: datetime | None) -> Degradation:
        return Degradation(
            degradation_id=f"d-{number}",
            key=f"k-{number}",
            scope=scope,
            metric=Metric.MEAN_SATISFACTION,
            dimension="platform",
            opened_week=week,
            baseline=observation,
            current=observation,
            resolved_week=resolved,
        )

    await api.degradations.save(
        network_id=NETWORK, degradations=[degradation(1, None), degradation(2, week)]
    )

    open_ones = (await api.http.get(f"/v1/networks/{NETWORK}/degradations")).json()
    every = (await api.http.get(f"/v1/networks/{NETWORK}/degradations?status=all")).json()

    assert [(e["degradation_id"], e["status"]) for e in open_ones] == [("d-1", "open")]
    assert {e["status"] for e in every} == {"open", "resolved"}


async def test_emerging_terms_of_a_site() -> None:
    api = Api()
    start = EXAMPLE.data.submitted_at
    offset = 0
    for week in range(16):
        text = "Connexion impossible" if week >= 12 else "Formateur très clair"
        for number in range(6):
            offset += 1
            event = SurveyResponseSubmittedV1.create(
                data=EXAMPLE.data.model_copy(
                    update={
                        "response_id": f"r-{offset}",
                        "submitted_at": start + timedelta(weeks=week, hours=number),
                        "comments": (Comment(comment_id=f"c-{offset}", text=text),),
                    }
                ),
                network_id=NETWORK,
                site_id=SITE,
                source="/test",
                event_id=f"e-{offset}",
            )
            await api.handler.handle(event, Position("t", 0, offset))

    reply = await api.http.get(
        f"/v1/networks/{NETWORK}/emerging-terms",
        params={"site_id": SITE, "until": (start + timedelta(weeks=16)).isoformat()},
    )

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["current_comments"] == 24
    assert body["baseline_comments"] == 72
    assert {t["stem"] for t in body["terms"]} == {"connexion", "impossibl"}
