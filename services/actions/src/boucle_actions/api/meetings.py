"""Analysis meetings: list, record (idempotent per request_id and site), read."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from boucle_actions.api.common import (
    ID_PATTERN,
    CurrentPrincipal,
    EntityId,
    Limit,
    NetworkId,
    Offset,
    OptionalId,
    Page,
    actor_of,
    paged,
    readable,
)
from boucle_actions.domain.meetings import Meeting, MeetingRecord
from boucle_actions.usecases.meetings import MeetingWorkflow
from boucle_runtime.auth import Principal


class MeetingRequest(MeetingRecord):
    request_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description=(
            "Makes the recording idempotent for its site: sent again, it returns the meeting "
            "it recorded; already used for another site, 409."
        ),
    )


def meeting_router(*, meetings: MeetingWorkflow, principal: CurrentPrincipal) -> APIRouter:
    # Tagged "actions" as before the split: clients generated from the OpenAPI document
    # group operations by tag, and meetings are where actions come from.
    router = APIRouter(prefix="/v1/networks/{network_id}", tags=["actions"])
    caller_t = Annotated[Principal, Depends(principal)]

    @router.get("/meetings")
    async def list_meetings(
        network_id: NetworkId,
        caller: caller_t,
        *,
        site_id: OptionalId = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[Meeting]:
        return await paged(
            meetings.meetings, caller, network_id, site_id=site_id, offset=offset, limit=limit
        )

    @router.post("/meetings", status_code=201)
    async def record_meeting(
        network_id: NetworkId, body: MeetingRequest, caller: caller_t
    ) -> Meeting:
        """An analysis meeting: date, attendees, data looked at, decisions."""
        caller.require_network(network_id)
        caller.require_write(body.site_id)
        meeting = await meetings.record(
            network_id=network_id,
            request_id=body.request_id or str(uuid.uuid4()),
            record=MeetingRecord.model_validate(body.model_dump(exclude={"request_id"})),
            actor=actor_of(caller),
        )
        # As for actions: a replay found a meeting of the same site (checked by the workflow).
        readable(caller, meeting.site_id, meeting.held_at)
        return meeting

    @router.get("/meetings/{meeting_id}")
    async def get_meeting(network_id: NetworkId, meeting_id: EntityId, caller: caller_t) -> Meeting:
        caller.require_network(network_id)
        meeting = await meetings.get(network_id, meeting_id)
        readable(caller, meeting.site_id, meeting.held_at)
        return meeting

    return router
