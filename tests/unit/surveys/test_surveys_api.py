"""The surveys HTTP API on in-memory stores, with real tokens: the plan published by the
quality lead only and refused in words, contacts checked, rates per site for a site
manager, and the signed opt-out page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from boucle_contracts.solicitations.v1 import CollectionTrigger
from boucle_runtime.auth import (
    AuthSettings,
    TokenVerifier,
    install_access_errors,
    principal_dependency,
)
from boucle_surveys.api.contacts import contact_router
from boucle_surveys.api.opt_out import opt_out_router
from boucle_surveys.api.plans import plan_router
from boucle_surveys.domain.planning import session_occasion, solicitations_for
from boucle_surveys.domain.ports import Contact
from boucle_surveys.opt_out import OptOutLinks
from tests.unit.surveys.fakes import MemoryContacts, MemoryPlans, MemorySink, MemorySolicitations
from tests.unit.surveys.surveys_support import NETWORK, NOW, enrolment, plan, rule, session
from tools.localstack import LocalIssuer

pytestmark = pytest.mark.unit
ISSUER = LocalIssuer()
RULE: dict[str, Any] = rule().model_dump(mode="json")


class Api:
    def __init__(self) -> None:
        self.plans = MemoryPlans()
        self.sink = MemorySink()
        self.contacts = MemoryContacts()
        self.store = MemorySolicitations()
        self.links = OptOutLinks(public_url="https://sondages.example", secret=b"s" * 32)
        settings = AuthSettings(
            auth_issuer=ISSUER.issuer,
            auth_audience=ISSUER.audience,
            auth_public_key=ISSUER.public_pem,
        )
        current = principal_dependency(TokenVerifier(settings))
        self.app = FastAPI()
        for router in (
            plan_router(plans=self.plans, publisher=self.sink, principal=current),
            contact_router(contacts=self.contacts, solicitations=self.store, principal=current),
            opt_out_router(contacts=self.contacts, links=self.links),
        ):
            self.app.include_router(router)
        install_access_errors(self.app)

    def client(self, role: str = "quality_lead", **claims: Any) -> httpx.AsyncClient:
        token = ISSUER.token(network_id=NETWORK, role=role, subject=f"usr-{role}", **claims)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://surveys",
            headers={"authorization": f"Bearer {token}"},
        )


@pytest.fixture
def api() -> Api:
    return Api()


async def test_the_quality_lead_publishes_versions_and_others_may_only_read(api: Api) -> None:
    url = f"/v1/networks/{NETWORK}/collection-plan"
    body = {"effective_from": NOW.isoformat(), "rules": [RULE]}
    async with api.client() as lead, api.client("site_manager", site_ids=["site-lyon"]) as site:
        assert (await site.post(url, json=body)).status_code == 403
        first = await lead.post(url, json=body)
        assert first.status_code == 201
        assert first.json()["version"] == 1
        earlier = body | {"effective_from": (NOW - timedelta(days=1)).isoformat()}
        refused = await lead.post(url, json=earlier)
        assert refused.status_code == 422
        assert "ne peut pas s'appliquer avant la version 1" in refused.json()["detail"]
        twice = await lead.post(url, json=body | {"rules": [RULE, RULE]})
        assert "apparaît deux fois" in twice.json()["detail"]
        read = (await site.get(url)).json()
    assert read["in_force"] == 1
    assert [v["version"] for v in read["versions"]] == [1]
    assert [e.type for e in api.sink.events] == [
        "fr.boucle.solicitations.collection_plan_published.v1"
    ]


async def test_contacts_are_checked_and_rates_are_per_site_for_a_site_manager(api: Api) -> None:
    url = f"/v1/networks/{NETWORK}"
    async with api.client() as lead:
        bad = await lead.put(
            f"{url}/contacts", json={"contacts": [{"person_ref": "l1", "address": "l1-at-x"}]}
        )
        assert bad.status_code == 422
        assert "address" in str(bad.json()["detail"])
    occasion = session_occasion(session(), [enrolment("l0"), enrolment("l1")])
    asked = solicitations_for(plan(), CollectionTrigger.SESSION_END, occasion)
    await api.store.add_new(asked, lambda s: b"")
    await api.store.save(asked[0].sent(NOW).answered("r0", NOW))
    await api.store.save(asked[1].sent(NOW))
    async with api.client("site_manager", site_ids=["site-lyon"]) as mine:
        rates = (await mine.get(f"{url}/response-rates", params={"by": "site_id"})).json()
    async with api.client("site_manager", site_ids=["site-paris"]) as theirs:
        none = (await theirs.get(f"{url}/response-rates")).json()
    assert rates == [
        {"group": {"site_id": "site-lyon"}, "solicited": 2, "answered": 1, "rate": 0.5}
    ]
    assert none == []


async def test_opt_out_needs_the_signed_link_and_a_press_of_the_button(api: Api) -> None:
    link = api.links.link(NETWORK, "l1")
    path = link.removeprefix("https://sondages.example")
    await api.contacts.put(NETWORK, "l1", Contact("l1@x.example"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="https://sondages.example"
    ) as browser:
        page = await browser.get(path)
        assert page.status_code == 200
        assert "Confirmer la désinscription" in page.text
        contact = await api.contacts.address_of(NETWORK, "l1")
        assert contact is not None
        assert not contact.opted_out  # opening the link changes nothing
        forged = await browser.post(path.split("?")[0], data={"t": "0" * 32})
        assert forged.status_code == 404
        done = await browser.post(path.split("?")[0], data={"t": path.split("t=")[1]})
        assert done.status_code == 200
        assert "vous ne recevrez plus nos questionnaires" in done.text
    contact = await api.contacts.address_of(NETWORK, "l1")
    assert contact is not None
    assert contact.opted_out


def test_links_of_two_people_differ() -> None:
    links = OptOutLinks(public_url="https://s.example/", secret=b"k" * 32)
    assert links.token(NETWORK, "l1") != links.token(NETWORK, "l2")
    assert links.valid(NETWORK, "l1", links.token(NETWORK, "l1"))
    assert not links.valid(NETWORK, "l2", links.token(NETWORK, "l1"))
    assert links.link(NETWORK, "l1").startswith("https://s.example/desinscription/net-demo/l1?t=")
