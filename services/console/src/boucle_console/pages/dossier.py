"""The dossier for the quality lead, the direction and the auditor: the reporter's tracking
table (CSV, XLSX) and the dossier de preuves (report, register, evidence) built on request
and downloaded, all passed through with the person's token (the reporter narrows them)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.adapters.api import ApiError, Download, utc_now
from boucle_console.pages.rendering import flash
from boucle_console.pages.routes import Console, Csrf, PageError, UserDep, api_error
from boucle_runtime.auth import Role

READERS = frozenset({Role.QUALITY_LEAD, Role.DIRECTION, Role.AUDITOR})
TABLES = {"csv": "tracking-table.csv", "xlsx": "tracking-table.xlsx"}


def _file(found: Download) -> Response:
    name = found.filename.replace('"', "")
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def dossier_router(console: Console) -> APIRouter:
    router = APIRouter(tags=["dossier"], default_response_class=HTMLResponse)
    reporter, renderer, metrics = console.reporter, console.renderer, console.metrics

    def reader(role: Role) -> None:
        if role not in READERS:
            raise PageError(403, "error.403")

    @router.get("/dossier", name="dossier", summary="Tracking table and dossier de preuves")
    async def dossier_page(request: Request, user: UserDep) -> HTMLResponse:
        reader(user.principal.role)
        network = user.principal.network_id
        try:
            builds = await reporter.builds(user.access_token, network)
        except ApiError as exc:
            raise api_error(exc) from exc
        today = utc_now().date()
        principal = user.principal
        start = (
            principal.period_start.date()
            if principal.period_start
            else date(today.year - 1, today.month, 1)
        )
        end = today
        if principal.period_end:  # exclusive: an auditor's last day is the day before
            end = min(today, (principal.period_end - timedelta(microseconds=1)).date())
        return renderer.page(
            request, "dossier.html", user, builds=builds, start=start, end=end, today=today
        )

    @router.get(
        "/dossier/tracking-table.{fmt}",
        name="tracking_file",
        summary="The tracking table (csv or xlsx)",
        response_class=Response,
    )
    async def tracking_file(fmt: str, user: UserDep) -> Response:
        reader(user.principal.role)
        if fmt not in TABLES:
            raise PageError(404, "error.404")
        try:
            found = await reporter.download(
                user.access_token, user.principal.network_id, TABLES[fmt]
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        return _file(found)

    @router.post("/dossier/builds", summary="Build the dossier for a period")
    async def build(
        request: Request,
        *,
        user: UserDep,
        csrf_token: Csrf,
        start: Annotated[date, Form()],
        end: Annotated[date, Form()],
    ) -> Response:
        # A build is a write (the reporter stores it): an auditor downloads the dossiers
        # already built and the tracking table, and is refused here before any call.
        reader(user.principal.role)
        console.writer(request, user, csrf_token)
        if end < start:
            raise PageError(422, "error.invalid", "end")
        try:
            await reporter.request_build(
                user.access_token,
                user.principal.network_id,
                start=start,
                end=end + timedelta(days=1),  # the reporter's end is exclusive
                language=renderer.locale_of(request),
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels("dossier").inc()
        flash(request, "flash.dossier")
        return RedirectResponse(request.url_for("dossier"), status_code=303)

    @router.get(
        "/dossier/builds/{build_id}.zip",
        name="dossier_zip",
        summary="A built dossier (zip)",
        response_class=Response,
    )
    async def dossier_zip(build_id: str, user: UserDep) -> Response:
        reader(user.principal.role)
        if len(build_id) != 32 or any(c not in "0123456789abcdef" for c in build_id):
            raise PageError(404, "error.404")
        try:
            found = await reporter.download(
                user.access_token, user.principal.network_id, f"builds/{build_id}/dossier.zip"
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        return _file(found)

    return router
