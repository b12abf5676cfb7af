"""Analysis meetings: recorded once per client ``request_id`` and site, then read."""

from __future__ import annotations

from boucle_actions.domain.meetings import Meeting, MeetingRecord, meeting_id_for, recorded_event
from boucle_actions.domain.ports import Entities
from boucle_actions.usecases.common import Clock, check_replay, event_id, load, utc_now
from boucle_actions.usecases.outbox import Relay
from boucle_contracts.actions.v1 import AnalysisMeetingRecordedV1


class MeetingWorkflow:
    def __init__(
        self, *, meetings: Entities[Meeting], relay: Relay, clock: Clock = utc_now
    ) -> None:
        self.meetings = meetings
        self._relay = relay
        self._clock = clock

    async def record(
        self, *, network_id: str, request_id: str, record: MeetingRecord, actor: str
    ) -> Meeting:
        """The meeting; a repeated ``request_id`` finds the one it recorded, as long as it is
        for the same site (else RequestIdReusedError)."""
        meeting = Meeting(
            **record.model_dump(include=set(MeetingRecord.model_fields)),
            meeting_id=meeting_id_for(network_id, request_id),
            network_id=network_id,
            recorded_by=actor,
            recorded_at=self._clock(),
        )
        event = AnalysisMeetingRecordedV1.create(
            data=recorded_event(meeting),
            network_id=network_id,
            site_id=meeting.site_id,
            source="/actions/meetings",
            event_id=event_id(meeting.meeting_id, "recorded"),
            time=meeting.recorded_at,
            subject=f"meeting/{meeting.meeting_id}",
        )
        if not await self.meetings.insert(meeting, events=[event]):
            stored = await self.get(network_id, meeting.meeting_id)
            check_replay(
                stored_site=stored.site_id,
                asked_site=meeting.site_id,
                request_id=request_id,
                what="a meeting",
            )
            return stored
        await self._relay.flush(self.meetings, meeting.meeting_id, [event])
        return meeting

    async def get(self, network_id: str, meeting_id: str) -> Meeting:
        return await load(self.meetings, network_id, meeting_id, "meeting")
