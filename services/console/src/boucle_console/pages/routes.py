"""Every page and form of the console.

Reading and writing both go through the actions API with the person's token: what they may
see or change is decided there (a site manager's other sites answer 403). The console adds
its own guard in front of every form (an auditor never gets a write control, and a write
request from one is refused with 403 before any call) and checks the CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.adapters.api import ActionsApi, ApiError, ReporterApi, utc_now
from boucle_console.domain.actions import (
    by_status,
    may_attach_evidence,
    may_request_evaluation,
    next_progress,
)
from boucle_console.domain.cases import Step, answer_transitions, inbox
from boucle_console.domain.problems import problem_of
from boucle_console.metrics import ConsoleMetrics
from boucle_console.oidc import NotSignedInError, SignIn, User
from boucle_console.pages.rendering import LANG_COOKIE, Renderer, flash
from boucle_console.session import csrf_valid
from boucle_runtime.auth import Role

Text = Annotated[str, Form(max_length=20_000)]
OptionalText = Annotated[str | None, Form(max_length=20_000)]
Csrf = Annotated[str, Form(alias="csrf_token", max_length=200)]


class PageError(Exception):
    """Shown as an error page: ``key`` names its text, ``status`` its HTTP status."""

    def __init__(self, status: int, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.detail = detail


def api_error(exc: ApiError) -> PageError:
    if exc.status in (401, 403):
        return PageError(403, "error.403")
    if exc.status == 404:
        return PageError(404, "error.404")
    if exc.status in (409, 422):
        return PageError(409, "error.409", exc.detail)
    return PageError(503, "error.upstream")


@dataclass(frozen=True, slots=True)
class Console:
    """What the pages work with (kept in ``app.state.console``)."""

    sign_in: SignIn
    actions: ActionsApi
    reporter: ReporterApi
    renderer: Renderer
    metrics: ConsoleMetrics

    def writer(self, request: Request, user: User, token: str) -> None:
        """An auditor's write request is refused before anything; a form needs its token."""
        if user.principal.read_only or user.principal.role is Role.INTEGRATION:
            self.metrics.refused.labels("read_only").inc()
            raise PageError(403, "error.403")
        if not csrf_valid(request.session, token):
            self.metrics.refused.labels("csrf").inc()
            raise PageError(403, "error.csrf")


def may_write(user: User, site_id: str | None) -> bool:
    """Whether the APIs will let this person change something of ``site_id`` (None: the
    whole network, the quality lead's and the direction's): the controls shown follow it."""
    principal = user.principal
    if principal.read_only or principal.role is Role.INTEGRATION:
        return False
    return principal.all_sites or (site_id is not None and site_id in principal.site_ids)


async def signed_in(request: Request) -> User:
    console: Console = request.app.state.console
    return await console.sign_in.user(request)


UserDep = Annotated[User, Depends(signed_in)]


def pages_router(console: Console) -> APIRouter:
    router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)
    _sign_in_routes(router, console)
    _case_routes(router, console)
    _action_routes(router, console)
    return router


def _sign_in_routes(router: APIRouter, console: Console) -> None:
    sign_in, renderer, metrics = console.sign_in, console.renderer, console.metrics

    @router.get("/login", name="login", summary="Sign-in page")
    async def login(request: Request) -> HTMLResponse:
        return renderer.page(request, "login.html", None, enabled=sign_in.enabled)

    @router.get("/login/start", name="login_start", summary="Go to the identity provider")
    async def login_start(request: Request) -> Response:
        if not sign_in.enabled:
            return RedirectResponse(request.url_for("login"), status_code=303)
        return await sign_in.redirect(request)

    @router.get("/auth/callback", name="callback", summary="Back from the identity provider")
    async def callback(request: Request) -> Response:
        try:
            await sign_in.complete(request)
        except NotSignedInError as exc:
            # Shown, not looped back to sign-in: the provider would sign them in again and
            # the console refuse again (a token without a Boucle role, network or sites).
            metrics.sign_ins.labels("refused").inc()
            raise PageError(403, "error.signin", str(exc)) from exc
        metrics.sign_ins.labels("ok").inc()
        return RedirectResponse(request.url_for("inbox"), status_code=303)

    @router.post("/logout", name="logout", summary="Sign out")
    async def logout(request: Request, csrf_token: Csrf) -> Response:
        if not csrf_valid(request.session, csrf_token):
            raise PageError(403, "error.csrf")
        return await sign_in.logout(request)

    @router.get("/lang/{code}", name="language", summary="Choose the language of the pages")
    async def language(request: Request, code: str) -> Response:
        response = RedirectResponse(request.url_for("inbox"), status_code=303)
        if code in ("fr", "en"):
            response.set_cookie(
                LANG_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="lax"
            )
        return response


def _case_routes(router: APIRouter, console: Console) -> None:
    actions, renderer, metrics, writer = (
        console.actions,
        console.renderer,
        console.metrics,
        console.writer,
    )

    @router.get("/", name="inbox", summary="Inbox: complaints, hazards and difficulties")
    async def inbox_page(request: Request, user: UserDep) -> HTMLResponse:
        network = user.principal.network_id
        try:
            cases = await actions.cases(user.access_token, network)
            ack_hours, answer_days = await actions.deadlines(user.access_token, network)
        except ApiError as exc:
            raise api_error(exc) from exc
        return renderer.page(
            request,
            "inbox.html",
            user,
            inbox=inbox(cases, utc_now()),
            ack_hours=ack_hours,
            answer_days=answer_days,
        )

    @router.get("/cases/{case_id}", name="case", summary="One case, with its forms")
    async def case_page(request: Request, case_id: str, user: UserDep) -> HTMLResponse:
        try:
            case = await actions.case(user.access_token, user.principal.network_id, case_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        return renderer.page(request, "case.html", user, case=case, Step=Step)

    async def move_case(
        user: User, case_id: str, steps: list[tuple[str, dict[str, str | None]]]
    ) -> None:
        network = user.principal.network_id
        try:
            case = await actions.case(user.access_token, network, case_id)
            for to, fields in steps:
                case = await actions.transition_case(user.access_token, network, case, to, **fields)
        except ApiError as exc:
            raise api_error(exc) from exc

    @router.post("/cases/{case_id}/acknowledge", summary="Acknowledge a case")
    async def acknowledge(
        request: Request,
        case_id: str,
        *,
        user: UserDep,
        csrf_token: Csrf,
        note: OptionalText = None,
    ) -> Response:
        writer(request, user, csrf_token)
        await move_case(user, case_id, [("acknowledged", {"note": note})])
        metrics.case_steps.labels("acknowledged").inc()
        flash(request, "flash.acknowledged")
        return RedirectResponse(request.url_for("case", case_id=case_id), status_code=303)

    @router.post("/cases/{case_id}/root-cause", summary="Record a case's root cause")
    async def root_cause(
        request: Request, case_id: str, user: UserDep, csrf_token: Csrf, root_cause: Text
    ) -> Response:
        writer(request, user, csrf_token)
        if not root_cause.strip():
            raise PageError(422, "error.invalid", "root_cause")
        await move_case(user, case_id, [("analysed", {"root_cause": root_cause})])
        metrics.case_steps.labels("analysed").inc()
        flash(request, "flash.analysed")
        return RedirectResponse(request.url_for("case", case_id=case_id), status_code=303)

    @router.post("/cases/{case_id}/answer", summary="Answer a case (root cause first if needed)")
    async def answer(
        request: Request,
        case_id: str,
        *,
        user: UserDep,
        csrf_token: Csrf,
        answer: Text,
        root_cause: OptionalText = None,
    ) -> Response:
        writer(request, user, csrf_token)
        if not answer.strip():
            raise PageError(422, "error.invalid", "answer")
        try:
            case = await actions.case(user.access_token, user.principal.network_id, case_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        cause = (root_cause or "").strip() or None
        steps: list[tuple[str, dict[str, str | None]]] = [
            (to, {"root_cause": cause} if to == "analysed" else {"answer": answer})
            for to in answer_transitions(case, root_cause=cause)
        ]
        await move_case(user, case_id, steps)
        metrics.case_steps.labels("answered").inc()
        flash(request, "flash.answered")
        return RedirectResponse(request.url_for("inbox"), status_code=303)


def _action_routes(router: APIRouter, console: Console) -> None:
    actions, renderer, metrics, writer = (
        console.actions,
        console.renderer,
        console.metrics,
        console.writer,
    )
    reporter = console.reporter

    @router.get("/actions", name="actions", summary="Improvement actions and their status")
    async def actions_page(request: Request, user: UserDep) -> HTMLResponse:
        try:
            listed = await actions.actions(user.access_token, user.principal.network_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        return renderer.page(request, "actions.html", user, actions=by_status(listed))

    @router.get("/actions/{action_id}", name="action", summary="One improvement action")
    async def action_page(request: Request, action_id: str, user: UserDep) -> HTMLResponse:
        try:
            action = await actions.action(user.access_token, user.principal.network_id, action_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        may_validate = user.principal.may_validate and action.awaiting_validation
        return renderer.page(
            request,
            "action.html",
            user,
            action=action,
            may_validate=may_validate,
            progress=next_progress(action) if may_write(user, action.site_id) else (),
            may_attach=may_attach_evidence(action) and may_write(user, action.site_id),
            may_evaluate=user.principal.role is Role.QUALITY_LEAD
            and may_request_evaluation(action),
            problem=problem_of(action),
        )

    async def decide(user: User, action_id: str, to: str, note: str | None) -> None:
        if not user.principal.may_validate:
            metrics.refused.labels("not_direction").inc()
            raise PageError(403, "error.403")
        network = user.principal.network_id
        try:
            action = await actions.action(user.access_token, network, action_id)
            await actions.transition_action(user.access_token, network, action, to, note)
        except ApiError as exc:
            raise api_error(exc) from exc

    @router.post("/actions/{action_id}/validate", summary="Validate a plan (direction)")
    async def validate(
        request: Request,
        action_id: str,
        *,
        user: UserDep,
        csrf_token: Csrf,
        comment: OptionalText = None,
    ) -> Response:
        writer(request, user, csrf_token)
        await decide(user, action_id, "validated", (comment or "").strip() or None)
        flash(request, "flash.validated")
        return RedirectResponse(request.url_for("action", action_id=action_id), status_code=303)

    @router.post("/actions/{action_id}/send-back", summary="Send a plan back, with a comment")
    async def send_back(
        request: Request, action_id: str, user: UserDep, csrf_token: Csrf, comment: Text
    ) -> Response:
        writer(request, user, csrf_token)
        if not comment.strip():
            raise PageError(422, "error.invalid", "comment")
        await decide(user, action_id, "draft", comment.strip())
        flash(request, "flash.sent_back")
        return RedirectResponse(request.url_for("action", action_id=action_id), status_code=303)

    @router.get(
        "/tracking-table.csv",
        name="tracking_table",
        summary="The reporter's tracking table (CSV)",
        response_class=Response,
    )
    async def tracking_table(user: UserDep) -> Response:
        try:
            body = await reporter.tracking_table_csv(user.access_token, user.principal.network_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="tableau-de-suivi.csv"'},
        )
