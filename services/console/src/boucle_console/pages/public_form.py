"""The public form of each site (``/avis/<network>/<site>``), open to anyone without signing
in, and the page where the quality lead or the site manager finds its link and QR code.

The public pages set no cookie and keep no address: the language is a ``?lang=`` parameter,
the form's protection travels in the form (see ``domain/public_form.py``).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console import locale
from boucle_console.adapters.api import ApiError
from boucle_console.adapters.collector import CollectorApi
from boucle_console.domain.public_form import (
    ROLES,
    FormToken,
    FormTokens,
    Message,
    SiteBudget,
    complaint_body,
    read_message,
    remark_body,
    valid_id,
)
from boucle_console.oidc import User
from boucle_console.pages.rendering import LANG_COOKIE
from boucle_console.pages.routes import Console, PageError, UserDep
from boucle_runtime.auth import Role
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
HONEYPOT = "website"


@dataclass(frozen=True, slots=True)
class PublicForm:
    collector: CollectorApi | None  # None: no API key configured, the form is unavailable
    tokens: FormTokens
    budget: SiteBudget
    min_seconds: float
    max_age_seconds: float
    clock: Callable[[], float] = time.time


def _lang(request: Request) -> locale.Locale:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return locale.pick_locale(chosen, request.headers.get("accept-language"), "fr")


async def _deliver(
    form: PublicForm,
    network_id: str,
    site_id: str,
    message: Message,
    *,
    message_id: str,
    now: float,
) -> None:
    """To the collector: a complaint opens a case, a remark counts as free expression."""
    assert form.collector is not None  # screened before
    ref = form.tokens.contact_ref(message.email) if message.email else None
    if message.kind == "complaint":
        body = complaint_body(message, message_id, now, ref)
        await form.collector.post_complaint(network_id, site_id, body)
    else:
        body = remark_body(message, message_id, now, ref)
        await form.collector.post_survey_response(network_id, site_id, body)


def public_router(console: Console, form: PublicForm) -> APIRouter:
    router = APIRouter(tags=["public form"], default_response_class=HTMLResponse)
    renderer = console.renderer

    def page(
        request: Request, network_id: str, site_id: str, *, status: int = 200, **context: object
    ) -> HTMLResponse:
        lang = _lang(request)
        values = context.pop("values", {})
        return renderer.public(
            request,
            "public_form.html",
            lang=lang,
            status=status,
            network_id=network_id,
            site_id=site_id,
            token=form.tokens.issue(network_id, site_id, form.clock()),
            roles=ROLES,
            values=values,
            available=form.collector is not None,
            **context,
        )

    def failure(request: Request, status: int, key: str) -> HTMLResponse:
        """An error page that, like every public page, sets no cookie."""
        return renderer.public(
            request, "public_error.html", lang=_lang(request), status=status, key=key
        )

    def unknown(network_id: str, site_id: str) -> bool:
        return not (valid_id(network_id) and valid_id(site_id))

    @router.get("/avis/{network_id}/{site_id}", name="public_form", summary="Public form")
    async def show(request: Request, network_id: str, site_id: str) -> HTMLResponse:
        if unknown(network_id, site_id):
            return failure(request, 404, "error.404")
        return page(request, network_id, site_id)

    @router.get("/avis/{network_id}/{site_id}/merci", name="public_thanks", summary="Thanks")
    async def thanks(request: Request, network_id: str, site_id: str) -> HTMLResponse:
        if unknown(network_id, site_id):
            return failure(request, 404, "error.404")
        return renderer.public(
            request,
            "public_thanks.html",
            lang=_lang(request),
            network_id=network_id,
            site_id=site_id,
        )

    def screen(
        request: Request, network_id: str, site_id: str, fields: dict[str, str], now: float
    ) -> tuple[Message, FormToken] | HTMLResponse:
        """The message and its token, or the page saying why it is not sent."""
        lang = _lang(request)
        token = form.tokens.read(fields.get("form_token", ""), network_id, site_id)
        if token is None or now - token.shown_at > form.max_age_seconds:
            return page(request, network_id, site_id, status=400, values=fields, notice="expired")
        if now - token.shown_at < form.min_seconds:
            console.metrics.refused.labels("public_too_fast").inc()
            return page(request, network_id, site_id, status=422, values=fields, notice="fast")
        message, errors = read_message(fields, lang)
        if message is None:
            return page(request, network_id, site_id, status=422, values=fields, errors=errors)
        if form.collector is None:
            return failure(request, 503, "public.unavailable")
        if not form.budget.take(network_id, site_id, now):
            console.metrics.refused.labels("public_budget").inc()
            return failure(request, 429, "public.busy")
        return message, token

    @router.post("/avis/{network_id}/{site_id}", summary="Send a complaint or a remark")
    async def send(request: Request, network_id: str, site_id: str) -> Response:
        if unknown(network_id, site_id):
            return failure(request, 404, "error.404")
        lang = _lang(request)
        fields = {k: str(v) for k, v in (await request.form()).items()}
        done = RedirectResponse(
            str(request.url_for("public_thanks", network_id=network_id, site_id=site_id))
            + f"?lang={lang}",
            status_code=303,
        )
        if fields.get(HONEYPOT, "").strip():  # a robot: thanked, and nothing sent
            console.metrics.refused.labels("public_honeypot").inc()
            return done
        now = form.clock()
        checked = screen(request, network_id, site_id, fields, now)
        if isinstance(checked, Response):
            return checked
        message, token = checked
        try:
            await _deliver(form, network_id, site_id, message, message_id=token.message_id, now=now)
        except ApiError as exc:
            # The reason only (never the message nor anything about its sender).
            log.warning("public_form_refused", status=exc.status, site_id=site_id)
            if exc.status in (401, 403, 404):  # a site the console's key may not write for
                return failure(request, 404, "error.404")
            return failure(request, 503, "public.unavailable")
        console.metrics.action_steps.labels(f"public_{message.kind}").inc()
        return done

    _share_routes(router, console)
    return router


def _sites_of(user: User, asked: str | None) -> tuple[list[str], str | None]:
    """The sites this person may share a form for, and the one shown."""
    principal = user.principal
    sites = sorted(principal.site_ids)
    if asked and (principal.all_sites or asked in principal.site_ids) and valid_id(asked):
        return sites, asked
    return sites, sites[0] if sites else None


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def _share_routes(router: APIRouter, console: Console) -> None:
    renderer = console.renderer

    def sharer(user: User) -> None:
        if user.principal.role not in (Role.QUALITY_LEAD, Role.SITE_MANAGER):
            raise PageError(403, "error.403")

    def link(request: Request, user: User, site_id: str) -> str:
        return str(
            request.url_for("public_form", network_id=user.principal.network_id, site_id=site_id)
        )

    @router.get("/public-form", name="public_share", summary="The public form's link and QR")
    async def share(request: Request, user: UserDep, site: str | None = None) -> HTMLResponse:
        sharer(user)
        sites, shown = _sites_of(user, site)
        url = link(request, user, shown) if shown else None
        svg = _qr(url).svg_inline(scale=6) if url else None  # labelled by its figcaption
        return renderer.page(
            request, "public_share.html", user, sites=sites, site=shown, url=url, svg=svg
        )

    @router.get(
        "/public-form/{site_id}/qr.{fmt}",
        name="public_qr",
        summary="The QR code of a site's public form (png or svg)",
        response_class=Response,
    )
    async def qr_file(request: Request, site_id: str, fmt: str, user: UserDep) -> Response:
        sharer(user)
        _, shown = _sites_of(user, site_id)
        if shown != site_id or fmt not in ("png", "svg"):
            raise PageError(404, "error.404")
        buffer = io.BytesIO()
        _qr(link(request, user, site_id)).save(buffer, kind=fmt, scale=12, border=4)
        media = "image/png" if fmt == "png" else "image/svg+xml"
        name = f"avis-{site_id}.{fmt}".replace('"', "")
        return Response(
            buffer.getvalue(),
            media_type=media,
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
