"""Unsubscribing from a kind of reminder, from the link every reminder carries.

No sign-in needed: the link is signed for its address and kind. Opening it shows a
confirmation; only the button (a POST with the page's CSRF token) unsubscribes, so that a
mail scanner following links unsubscribes nobody.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.notify import links
from boucle_console.notify.reminders import Kind
from boucle_console.notify.state import ALL, KINDS, NotifyState
from boucle_console.pages.rendering import flash
from boucle_console.pages.routes import Console, Csrf, PageError, UserDep
from boucle_console.session import csrf_valid

KIND_NAMES = tuple(k.value for k in Kind)
VALID = frozenset({*KIND_NAMES, ALL})
assert set(KIND_NAMES) == set(KINDS)  # the state's list of kinds follows the reminders'
Field = Annotated[str, Form(max_length=320)]


def notification_router(console: Console, state: NotifyState, secret: str) -> APIRouter:
    router = APIRouter(tags=["notifications"], default_response_class=HTMLResponse)
    renderer = console.renderer

    def checked(address: str, kind: str, signature: str) -> None:
        if kind not in VALID or not links.valid(secret, address, kind, signature):
            raise PageError(403, "error.unsubscribe")

    @router.get("/notifications/unsubscribe", name="unsubscribe", summary="Stop a reminder")
    async def confirm(request: Request, a: str = "", k: str = "", s: str = "") -> HTMLResponse:
        checked(a, k, s)
        done = await state.unsubscribed(a, k)
        # A valid link proves the address: it may also stop every kind at once.
        every = links.signature(secret, a, ALL)
        return renderer.page(
            request,
            "unsubscribe.html",
            None,
            address=a,
            kind=k,
            signature=s,
            done=done,
            every_signature=every,
        )

    @router.post("/notifications/unsubscribe", summary="Stop a reminder (confirmed)")
    async def unsubscribe(
        request: Request, csrf_token: Csrf, a: Field, k: Field, s: Field
    ) -> Response:
        if not csrf_valid(request.session, csrf_token):
            raise PageError(403, "error.csrf")
        checked(a, k, s)
        await state.unsubscribe(a, k)
        return renderer.page(
            request, "unsubscribe.html", None, address=a, kind=k, signature=s, done=True
        )

    @router.get("/notifications", name="preferences", summary="My e-mail reminders")
    async def preferences(request: Request, user: UserDep) -> HTMLResponse:
        address = user.email
        stopped = {k for k in KIND_NAMES if address and await state.unsubscribed(address, k)}
        return renderer.page(
            request,
            "preferences.html",
            user,
            address=address,
            kinds=KIND_NAMES,
            stopped=stopped,
        )

    @router.post("/notifications", summary="Save my e-mail reminders")
    async def save_preferences(request: Request, user: UserDep, csrf_token: Csrf) -> Response:
        if not csrf_valid(request.session, csrf_token):
            raise PageError(403, "error.csrf")
        if not user.email:
            raise PageError(409, "error.409", "email")
        wanted = set((await request.form()).getlist("kind"))
        for kind in KIND_NAMES:
            if kind in wanted:
                await state.resubscribe(user.email, kind)
            else:
                await state.unsubscribe(user.email, kind)
        flash(request, "flash.preferences")
        return RedirectResponse(request.url_for("preferences"), status_code=303)

    return router
