"""« Vous nous avez dit, nous avons agi »: per site, the completed measures as a note for
learners, companies and funders (a printable page), and the record, on each action, of who
was told, when and how (the actions API's ``stakeholders_informed``, which the tracking
table shows)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.adapters.api import ApiError, utc_now
from boucle_console.domain.actions import COMPLETED, ActionView, completed_for
from boucle_console.domain.plan import PARIS
from boucle_console.oidc import User
from boucle_console.pages.rendering import flash
from boucle_console.pages.routes import Console, Csrf, PageError, UserDep, api_error, may_write

Short = Annotated[str, Form(min_length=1, max_length=200)]


def notes_router(console: Console) -> APIRouter:
    router = APIRouter(tags=["notes"], default_response_class=HTMLResponse)
    actions, renderer, metrics = console.actions, console.renderer, console.metrics

    async def listed(user: User) -> list[ActionView]:
        try:
            return await actions.actions(user.access_token, user.principal.network_id)
        except ApiError as exc:
            raise api_error(exc) from exc

    @router.get("/notes", name="notes", summary="Sites with measures to tell stakeholders")
    async def notes_index(request: Request, user: UserDep) -> HTMLResponse:
        found = await listed(user)
        sites = sorted({a.site_id for a in found if a.site_id and a.status in COMPLETED})
        return renderer.page(request, "notes.html", user, sites=sites)

    @router.get("/notes/{site_id}", name="note", summary="« Vous nous avez dit, nous avons agi »")
    async def note(request: Request, site_id: str, user: UserDep) -> HTMLResponse:
        done = completed_for(await listed(user), site_id)
        return renderer.page(
            request,
            "note.html",
            user,
            site_id=site_id,
            done=done,
            fresh=[a for a in done if not a.informed],
            may_record=may_write(user, site_id),
            today=utc_now().astimezone(PARIS).date(),
        )

    @router.post("/notes/{site_id}/published", summary="Record that the note was published")
    async def published(
        request: Request,
        site_id: str,
        *,
        user: UserDep,
        csrf_token: Csrf,
        who: Short,
        how: Short,
        on: Annotated[date, Form()],
    ) -> Response:
        console.writer(request, user, csrf_token)
        if not may_write(user, site_id):
            metrics.refused.labels("other_site").inc()
            raise PageError(403, "error.403")
        network = user.principal.network_id
        notice = {
            "who": who.strip(),
            "when": datetime.combine(on, time(12, 0), tzinfo=PARIS).isoformat(),
            "how": how.strip(),
        }
        # Recorded on the measures the note tells for the first time; those told already
        # keep their record (a note printed again is not a new information).
        fresh = [a for a in completed_for(await listed(user), site_id) if not a.informed]
        if not fresh:
            raise PageError(409, "note.nothing_new")
        try:
            for action in fresh:
                told = [
                    {"who": w, "when": at.isoformat(), "how": h} for w, at, h in action.informed
                ]
                await actions.update_action(
                    user.access_token, network, action, {"stakeholders_informed": [*told, notice]}
                )
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels("stakeholders_informed").inc()
        flash(request, "flash.note_published")
        return RedirectResponse(request.url_for("note", site_id=site_id), status_code=303)

    return router
