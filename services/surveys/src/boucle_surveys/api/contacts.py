"""Contact details in (from a TMS export or the quality lead), response rates out."""
# No "from __future__ import annotations": FastAPI resolves the routes' local Annotated
# aliases (the caller) at definition time.

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from boucle_runtime.auth import Principal, Role
from boucle_surveys.domain.ports import Contact, ContactBook, SolicitationStore
from boucle_surveys.domain.rates import response_rates
from boucle_surveys.domain.solicitation import Solicitation

ID = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID)]
CurrentPrincipal = Callable[..., Awaitable[Principal]]
# Deliberately loose (one @, a dot after it): the mail server is the judge of the rest.
ADDRESS = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


class ContactIn(BaseModel):
    person_ref: str = Field(pattern=ID, description="The person's pseudonym, as in the events.")
    address: str = Field(pattern=ADDRESS, max_length=254)
    language: Literal["fr", "en"] = "fr"


class ContactsRequest(BaseModel):
    contacts: list[ContactIn] = Field(min_length=1, max_length=5_000)


class ContactsStored(BaseModel):
    stored: int


Grouping = Literal["survey_kind", "respondent_role", "site_id", "programme_id", "session_id"]


class RateGroup(BaseModel):
    group: dict[str, str | None]
    solicited: int
    answered: int
    rate: float | None = Field(description="answered ÷ solicited; null when nobody was asked.")


def _group_key(by: list[Grouping]) -> Callable[[Solicitation], tuple[str | None, ...]]:
    def key(s: Solicitation) -> tuple[str | None, ...]:
        values: dict[str, str | None] = {
            "survey_kind": str(s.survey_kind),
            "respondent_role": str(s.respondent_role),
            "site_id": s.site_id,
            "programme_id": s.training.programme_id,
            "session_id": s.training.session_id,
        }
        return tuple(values[field] for field in by)

    return key


def contact_router(
    *, contacts: ContactBook, solicitations: SolicitationStore, principal: CurrentPrincipal
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["contacts and rates"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.put("/contacts")
    async def put_contacts(
        network_id: NetworkId, body: ContactsRequest, caller: caller_t
    ) -> ContactsStored:
        caller.require_network(network_id)
        caller.require_role(Role.QUALITY_LEAD)
        for item in body.contacts:
            await contacts.put(network_id, item.person_ref, Contact(item.address, item.language))
        return ContactsStored(stored=len(body.contacts))

    @router.get("/response-rates")
    async def rates(
        network_id: NetworkId,
        caller: caller_t,
        by: Annotated[list[Grouping], Query(max_length=5)] = ["survey_kind"],  # noqa: B006
    ) -> list[RateGroup]:
        caller.require_network(network_id)
        sites = caller.site_filter()
        mine = [
            s
            for s in await solicitations.of_network(network_id)
            if sites is None or s.site_id in sites
        ]
        groups = response_rates(mine, key=_group_key(by))
        return [
            RateGroup(
                group=dict(zip(by, key, strict=True)),
                solicited=rate.solicited,
                answered=rate.answered,
                rate=rate.rate,
            )
            for key, rate in sorted(groups.items(), key=lambda item: str(item[0]))
        ]

    return router
