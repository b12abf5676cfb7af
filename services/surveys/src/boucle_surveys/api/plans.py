"""The collection plan over HTTP: versions in force, a new version by the quality lead."""
# No "from __future__ import annotations": FastAPI resolves the routes' local Annotated
# aliases (the caller) at definition time.

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import AwareDatetime, BaseModel, Field

from boucle_contracts.solicitations.v1 import CollectionRule
from boucle_runtime.auth import Principal, Role
from boucle_runtime.kafka import EventSink
from boucle_surveys import events
from boucle_surveys.domain.plan import PlanError, PlanVersion, in_force, next_version
from boucle_surveys.domain.ports import PlanStore

NetworkId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")]
CurrentPrincipal = Callable[..., Awaitable[Principal]]


class PlanRequest(BaseModel):
    effective_from: AwareDatetime = Field(description="From when the new version applies.")
    rules: list[CollectionRule] = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=5_000)


class PlanView(BaseModel):
    version: int
    effective_from: datetime
    published_by: str
    published_at: datetime
    rules: list[CollectionRule]
    note: str | None


class PlansView(BaseModel):
    in_force: int | None = Field(description="The version that applies now, if any.")
    versions: list[PlanView]


def _view(plan: PlanVersion) -> PlanView:
    return PlanView(
        version=plan.version,
        effective_from=plan.effective_from,
        published_by=plan.published_by,
        published_at=plan.published_at,
        rules=list(plan.rules),
        note=plan.note,
    )


def plan_router(
    *, plans: PlanStore, publisher: EventSink, principal: CurrentPrincipal
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["collection plan"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.get("/collection-plan")
    async def get_plan(network_id: NetworkId, caller: caller_t) -> PlansView:
        caller.require_network(network_id)
        versions = sorted(await plans.versions(network_id), key=lambda p: p.version)
        current = in_force(versions, datetime.now(UTC))
        return PlansView(
            in_force=current.version if current else None, versions=[_view(p) for p in versions]
        )

    @router.post("/collection-plan", status_code=201)
    async def publish_plan(network_id: NetworkId, body: PlanRequest, caller: caller_t) -> PlanView:
        caller.require_network(network_id)
        caller.require_role(Role.QUALITY_LEAD)
        try:
            plan = next_version(
                await plans.versions(network_id),
                network_id=network_id,
                effective_from=body.effective_from,
                rules=body.rules,
                published_by=caller.subject,
                published_at=datetime.now(UTC),
                note=body.note,
            )
        except PlanError as error:
            raise HTTPException(422, detail=str(error)) from error
        if not await plans.add(plan):
            raise HTTPException(409, detail="Une autre version du plan vient d'être publiée.")
        await publisher.publish(events.plan_published(plan))
        return _view(plan)

    return router
