"""Bearer JWTs and roles on the analyzer's queries: each caller reads their network, their
sites, their period; no token, no answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.domain.ports import Position
from boucle_contracts.common import Period
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import Metric, Observation
from tests.unit.analyzer.analyzer_api_support import EXAMPLE, NETWORK, SITE, Api, bearer

pytestmark = pytest.mark.unit
OTHER_SITE = "paris-bercy"
TRAINER = EXAMPLE.data.training.trainer_ids[0]
BASE = f"/v1/networks/{NETWORK}"
ROUTES = (f"{BASE}/figures", f"{BASE}/degradations", f"{BASE}/emerging-terms")
MARCH = datetime(2025, 3, 10, tzinfo=UTC)


def _at(site: str, submitted: datetime, number: int) -> SurveyResponseSubmittedV1:
    return SurveyResponseSubmittedV1.create(
        data=EXAMPLE.data.model_copy(
            update={"response_id": f"r-{site}-{number}", "submitted_at": submitted}
        ),
        network_id=NETWORK,
        site_id=site,
        source="/test",
        event_id=f"e-{site}-{number}",
    )


def _degradation(scope: Scope, week: datetime) -> Degradation:
    observation = Observation(
        value=3.1, sample_size=40, period=Period(start=week, end=week + timedelta(days=7))
    )
    return Degradation(
        degradation_id=f"d-{scope.key()}-{week.date()}",
        key=f"{scope.key()}|{week.date()}",
        scope=scope,
        metric=Metric.MEAN_SATISFACTION,
        dimension="platform",
        opened_week=week,
        baseline=observation,
        current=observation,
    )


@pytest.fixture
async def api() -> Api:
    """Responses at two sites in March 2025 (and one at Lyon in January); a degradation at
    each site, one of the network and one of the trainer (across sites)."""
    api = Api()
    events = [_at(SITE, EXAMPLE.data.submitted_at, 1), _at(OTHER_SITE, MARCH, 2)]
    events.append(_at(SITE, datetime(2025, 1, 8, tzinfo=UTC), 3))
    for offset, event in enumerate(events):
        await api.handler.handle(event, Position("t", 0, offset))
    scopes = [
        Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=SITE),
        Scope(level=ScopeLevel.SITE, network_id=NETWORK, site_id=OTHER_SITE),
        Scope(level=ScopeLevel.NETWORK, network_id=NETWORK),
        Scope(level=ScopeLevel.TRAINER, network_id=NETWORK, trainer_id=TRAINER),
    ]
    await api.degradations.save(
        network_id=NETWORK,
        degradations=[
            *(_degradation(scope, MARCH) for scope in scopes),
            _degradation(scopes[0], datetime(2025, 1, 6, tzinfo=UTC)),
        ],
    )
    return api


def manager() -> dict[str, str]:
    return bearer(NETWORK, "site_manager", site_ids=[SITE])


def auditor() -> dict[str, str]:
    return bearer(
        NETWORK, "auditor", site_ids=[SITE], period_start="2025-03-01", period_end="2025-03-31"
    )


def sites_of(figures: list[dict[str, Any]]) -> set[str | None]:
    return {f["scope"].get("site_id") for f in figures}


@pytest.mark.parametrize("url", ROUTES)
async def test_no_token_is_401_with_a_bearer_challenge(api: Api, url: str) -> None:
    reply = await api.http.get(url, headers={"authorization": ""})

    assert reply.status_code == 401, reply.text
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert reply.json()["detail"] == "missing bearer token"


@pytest.mark.parametrize("url", ROUTES)
async def test_a_forged_token_is_401(api: Api, url: str) -> None:
    reply = await api.http.get(url, headers={"authorization": "Bearer not.a.token"})

    assert reply.status_code == 401, reply.text


async def test_without_a_key_configured_every_token_is_refused(api: Api) -> None:
    closed = Api(keyed=False)  # fail closed: nothing to verify a token with
    for url in ROUTES:
        reply = await closed.http.get(url)
        assert reply.status_code == 401, reply.text
        assert "no key configured" in reply.json()["detail"]


@pytest.mark.parametrize("url", ROUTES)
async def test_a_token_of_another_network_is_403(api: Api, url: str) -> None:
    reply = await api.http.get(url, headers=bearer("another-network"))

    assert reply.status_code == 403, reply.text
    assert NETWORK in reply.json()["detail"]


@pytest.mark.parametrize("url", ROUTES)
async def test_a_machine_token_is_403(api: Api, url: str) -> None:
    reply = await api.http.get(url, headers=bearer(NETWORK, "integration"))

    assert reply.status_code == 403, reply.text


async def test_a_quality_lead_reads_the_whole_network(api: Api) -> None:
    figures = (await api.http.get(f"{BASE}/figures")).json()
    degradations = (await api.http.get(f"{BASE}/degradations")).json()
    terms = await api.http.get(f"{BASE}/emerging-terms")

    assert sites_of(figures) == {None, SITE, OTHER_SITE}
    assert len(degradations) == 5
    assert terms.status_code == 200, terms.text


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("figures", {"site_id": OTHER_SITE}),
        ("figures", {"level": "network"}),
        ("figures", {"level": "trainer"}),
        ("figures", {"trainer_id": TRAINER}),
        ("emerging-terms", {"site_id": OTHER_SITE}),
        ("emerging-terms", {}),  # the whole network's comments
    ],
)
async def test_a_site_manager_asking_for_another_site_or_the_network_is_403(
    api: Api, url: str, params: dict[str, str]
) -> None:
    reply = await api.http.get(f"{BASE}/{url}", params=params, headers=manager())

    assert reply.status_code == 403, reply.text
    assert reply.json()["detail"]


async def test_a_site_manager_reads_their_sites_only(api: Api) -> None:
    figures = await api.http.get(f"{BASE}/figures", headers=manager())
    own = await api.http.get(f"{BASE}/figures", params={"site_id": SITE}, headers=manager())
    degradations = await api.http.get(
        f"{BASE}/degradations", params={"status": "all"}, headers=manager()
    )
    terms = await api.http.get(
        f"{BASE}/emerging-terms", params={"site_id": SITE}, headers=manager()
    )

    assert figures.status_code == 200, figures.text
    # neither the other site nor network-wide scopes (the network, the trainer across sites)
    assert sites_of(figures.json()) == {SITE}
    assert {f["scope"]["level"] for f in figures.json()} == {"site", "programme"}
    assert sites_of(own.json()) == {SITE}
    assert {d["scope"].get("site_id") for d in degradations.json()} == {SITE}
    assert terms.status_code == 200, terms.text


async def test_a_site_managers_listing_is_narrowed_before_its_limit(api: Api) -> None:
    # The network's scopes come first (period, then key order): the limit must count only
    # what the caller may read, or a site manager would get nothing.
    reply = await api.http.get(
        f"{BASE}/figures", params={"granularity": "week", "limit": "1"}, headers=manager()
    )

    assert sites_of(reply.json()) == {SITE}


async def test_an_auditor_reads_the_network_and_their_sample_within_their_period(
    api: Api,
) -> None:
    figures = await api.http.get(
        f"{BASE}/figures", params={"granularity": "week"}, headers=auditor()
    )
    other = await api.http.get(f"{BASE}/figures", params={"site_id": OTHER_SITE}, headers=auditor())
    degradations = await api.http.get(
        f"{BASE}/degradations", params={"status": "all"}, headers=auditor()
    )
    terms = await api.http.get(f"{BASE}/emerging-terms", headers=auditor())

    assert figures.status_code == 200, figures.text
    assert sites_of(figures.json()) == {None, SITE}
    # January's figures are outside the audit period
    assert {f["period"]["start"][:7] for f in figures.json()} == {"2025-03"}
    assert other.status_code == 403, other.text
    assert {(d["scope"].get("site_id"), d["opened_week"][:7]) for d in degradations.json()} == {
        (SITE, "2025-03"),
        (None, "2025-03"),
    }
    assert terms.status_code == 200, terms.text
    assert datetime.fromisoformat(terms.json()["period_end"]) == datetime(2025, 4, 1, tzinfo=UTC)
