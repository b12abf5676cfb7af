"""``PUT /v1/networks/{network_id}/referential``: the names of a network's sites, programmes
and people, one event each on ``boucle.referential.v1``, answered once Kafka has them all.

Keyed like the native API, by an API key of the network whose integration may write for
every site (``"sites": ["*"]``): a referential is the network's, not one site's.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from boucle_collector.domain.intake import Intake
from boucle_collector.domain.integrations import ALL_SITES, Caller
from boucle_collector.domain.referential import CHANNEL, ReferentialDocument
from boucle_collector.entrypoints.errors import COMMON_RESPONSES
from boucle_collector.entrypoints.gate import API_KEY_HEADER, BEARER, Gate
from boucle_collector.entrypoints.path_params import NetworkId
from boucle_collector.intake_publisher import IntakePublisher, Outcome

PUBLISH_CONCURRENCY = 32  # entries awaiting Kafka's acknowledgement at once


class NamedEvent(BaseModel):
    event_id: str
    event_type: str
    subject: str
    status: str  # accepted, or duplicate (already accepted: not published again)


class ReferentialAccepted(BaseModel):
    network_id: str
    accepted: int
    duplicates: int
    items: list[NamedEvent]


def _caller(gate: Gate) -> Any:
    async def network_wide(
        request: Request,
        network_id: NetworkId,
        api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    ) -> Caller | None:
        """A key of this network allowed for every site (None: the open local API)."""
        caller: Caller | None = None
        if gate.integrations.open:
            principal = f"open/{request.client.host if request.client else 'unknown'}"
        else:
            caller = gate.authenticate(api_key or (bearer.credentials if bearer else None), "api")
            integration = caller.integration
            if integration.network_id != network_id:
                gate.refuse(
                    403,
                    "forbidden",
                    "api",
                    f"API key {caller.key_id} of integration {integration.id} belongs to "
                    f"network {integration.network_id}, not {network_id}",
                )
            if ALL_SITES not in integration.sites:
                gate.refuse(
                    403,
                    "forbidden",
                    "api",
                    f"API key {caller.key_id} of integration {integration.id} may write for "
                    f'some sites only; the referential needs a key for every site ("*")',
                )
            principal = caller.principal
        gate.throttle(principal, "api")
        return caller

    return network_wide


def referential_router(publisher: IntakePublisher, gate: Gate, *, max_entries: int) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["referential"])

    @router.put(
        "/referential",
        response_model=ReferentialAccepted,
        responses={
            422: {"description": "Invalid entry, an id twice, or more than the most entries."},
            **COMMON_RESPONSES,
        },
        dependencies=[Depends(_caller(gate))],
        name="put_referential",
    )
    async def put_referential(
        network_id: NetworkId, document: ReferentialDocument
    ) -> ReferentialAccepted:
        """Names of the network's sites, programmes and people (trainers, owners, direction),
        shown in place of their ids in what people read. One event per entry, with an id
        derived from its content: sending the same names again publishes nothing new; an
        entry left out keeps its last name."""
        if document.size > max_entries:
            raise RequestValidationError(
                [
                    {
                        "type": "too_long",
                        "loc": ("body",),
                        "msg": f"{document.size} entries, at most {max_entries} per request",
                    }
                ]
            )
        intake = Intake(network_id=network_id, site_id="", channel=CHANNEL)
        limit = asyncio.Semaphore(PUBLISH_CONCURRENCY)

        async def accept(kind: Any, entry: Any) -> Outcome:
            async with limit:
                return await publisher.accept(kind, intake, entry, redacted=True)

        outcomes = await asyncio.gather(*(accept(k, e) for k, e in document.entries()))
        items = [
            NamedEvent(
                event_id=o.event.id,
                event_type=o.event.type,
                subject=o.event.subject or "",
                status=o.status,
            )
            for o in outcomes
        ]
        duplicates = sum(o.duplicate for o in outcomes)
        return ReferentialAccepted(
            network_id=network_id,
            accepted=len(items) - duplicates,
            duplicates=duplicates,
            items=items,
        )

    return router
