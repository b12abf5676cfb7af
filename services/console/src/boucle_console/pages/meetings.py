"""Analysis meetings: the list, recording one (date, attendees, data reviewed, decisions),
and turning a decision into an improvement action linked to the meeting."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.adapters.api import ApiError
from boucle_console.domain.meetings import newest_first
from boucle_console.domain.problems import split_lines
from boucle_console.locale import TIMEZONE
from boucle_console.pages.rendering import flash
from boucle_console.pages.routes import (
    Console,
    Csrf,
    OptionalText,
    PageError,
    UserDep,
    api_error,
    may_write,
)

Line = Annotated[str, Form(min_length=1, max_length=200)]
Lines = Annotated[str, Form(min_length=1, max_length=20_000)]
Site = Annotated[str | None, Form(max_length=128)]


def meeting_router(console: Console) -> APIRouter:
    router = APIRouter(tags=["meetings"], default_response_class=HTMLResponse)
    actions, renderer, metrics = console.actions, console.renderer, console.metrics

    @router.get("/meetings", name="meetings", summary="Analysis meetings, newest first")
    async def meetings_page(request: Request, user: UserDep) -> HTMLResponse:
        try:
            found = await actions.meetings(user.access_token, user.principal.network_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        sites = user.principal.site_ids or ()
        return renderer.page(
            request, "meetings.html", user, meetings=newest_first(found), sites=sorted(sites)
        )

    @router.post("/meetings", summary="Record an analysis meeting")
    async def record(
        request: Request,
        *,
        user: UserDep,
        csrf_token: Csrf,
        title: Line,
        held_at: Annotated[str, Form(min_length=10, max_length=20)],
        attendees: Lines,
        decisions: OptionalText = None,
        data_reviewed: OptionalText = None,
        site_id: Site = None,
    ) -> Response:
        console.writer(request, user, csrf_token)
        try:  # a datetime-local field: the network's local time
            moment = datetime.fromisoformat(held_at).replace(tzinfo=ZoneInfo(TIMEZONE))
        except ValueError as exc:
            raise PageError(422, "error.invalid", "held_at") from exc
        people = split_lines(attendees)
        if not people:
            raise PageError(422, "error.invalid", "attendees")
        body: dict[str, Any] = {
            "title": title.strip(),
            "held_at": moment.isoformat(),
            "attendees": list(people),
            "data_reviewed": list(split_lines(data_reviewed)),
            "decisions": list(split_lines(decisions)),
            "site_id": (site_id or "").strip() or None,
        }
        try:
            meeting = await actions.record_meeting(
                user.access_token, user.principal.network_id, body
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels("meeting").inc()
        flash(request, "flash.meeting")
        url = request.url_for("meeting", meeting_id=meeting.meeting_id)
        return RedirectResponse(url, status_code=303)

    @router.get("/meetings/{meeting_id}", name="meeting", summary="One meeting and its decisions")
    async def meeting_page(request: Request, meeting_id: str, user: UserDep) -> HTMLResponse:
        network = user.principal.network_id
        try:
            meeting = await actions.meeting(user.access_token, network, meeting_id)
            linked = [
                await actions.action(user.access_token, network, a) for a in meeting.action_ids
            ]
        except ApiError as exc:
            raise api_error(exc) from exc
        return renderer.page(
            request,
            "meeting.html",
            user,
            meeting=meeting,
            linked=linked,
            may_decide=may_write(user, meeting.site_id),
        )

    @router.post(
        "/meetings/{meeting_id}/decisions/{index}", summary="Turn a decision into an action"
    )
    async def decision_to_action(
        request: Request, meeting_id: str, index: int, user: UserDep, csrf_token: Csrf
    ) -> Response:
        console.writer(request, user, csrf_token)
        network = user.principal.network_id
        try:
            meeting = await actions.meeting(user.access_token, network, meeting_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        if not 0 <= index < len(meeting.decisions):
            raise PageError(404, "error.404")
        decision = meeting.decisions[index]
        body = {
            # The same decision always makes the same action (a second click finds it).
            "request_id": f"{meeting_id}-decision-{index}",
            "meeting_id": meeting_id,
            "site_id": meeting.site_id,
            "title": decision[:500],
            "problem": f"Décision de la réunion « {meeting.title} » : {decision}",
            "draft": True,
        }
        try:
            action = await actions.create_action(user.access_token, network, body)
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels("decision").inc()
        flash(request, "flash.decision")
        return RedirectResponse(
            request.url_for("action", action_id=action.action_id), status_code=303
        )

    return router
