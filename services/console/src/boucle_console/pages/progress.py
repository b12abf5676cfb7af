"""Measures' progress on an action: in progress, done (with a comment), evidence attached as
a document reference, and the quality lead's request for an effectiveness evaluation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.adapters.api import ApiError
from boucle_console.domain.actions import (
    ActionView,
    may_attach_evidence,
    may_request_evaluation,
    next_progress,
)
from boucle_console.oidc import User
from boucle_console.pages.rendering import flash
from boucle_console.pages.routes import Console, Csrf, OptionalText, PageError, UserDep, api_error
from boucle_runtime.auth import Role

Reference = Annotated[str, Form(min_length=1, max_length=200)]
Status = Annotated[str, Form(max_length=40)]


def progress_router(console: Console) -> APIRouter:
    router = APIRouter(tags=["progress"], default_response_class=HTMLResponse)
    actions, metrics = console.actions, console.metrics

    async def load(user: User, action_id: str) -> ActionView:
        try:
            return await actions.action(user.access_token, user.principal.network_id, action_id)
        except ApiError as exc:
            raise api_error(exc) from exc

    def back(request: Request, action_id: str, key: str) -> Response:
        flash(request, key)
        return RedirectResponse(request.url_for("action", action_id=action_id), status_code=303)

    @router.post("/actions/{action_id}/progress", summary="Measures started or done")
    async def progress(
        request: Request,
        action_id: str,
        *,
        user: UserDep,
        csrf_token: Csrf,
        to: Status,
        note: OptionalText = None,
    ) -> Response:
        console.writer(request, user, csrf_token)
        action = await load(user, action_id)
        if to not in next_progress(action):
            raise PageError(409, "error.409", to)
        try:
            await actions.transition_action(
                user.access_token, user.principal.network_id, action, to, (note or "").strip()
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels(to).inc()
        return back(request, action_id, f"flash.progress.{to}")

    @router.post("/actions/{action_id}/documents", summary="Attach evidence (a reference)")
    async def attach(
        request: Request, action_id: str, user: UserDep, csrf_token: Csrf, reference: Reference
    ) -> Response:
        console.writer(request, user, csrf_token)
        action = await load(user, action_id)
        if not may_attach_evidence(action):
            raise PageError(409, "error.409", action.status)
        cited = reference.strip()
        if not cited:
            raise PageError(422, "error.invalid", "reference")
        if cited not in action.documents:  # sent twice (a double click): kept once
            try:
                await actions.update_action(
                    user.access_token,
                    user.principal.network_id,
                    action,
                    {"documents": [*action.documents, cited]},
                )
            except ApiError as exc:
                raise api_error(exc) from exc
        metrics.action_steps.labels("evidence").inc()
        return back(request, action_id, "flash.evidence")

    @router.post("/actions/{action_id}/evaluation", summary="Request an effectiveness evaluation")
    async def evaluation(
        request: Request, action_id: str, user: UserDep, csrf_token: Csrf
    ) -> Response:
        console.writer(request, user, csrf_token)
        if user.principal.role is not Role.QUALITY_LEAD:
            metrics.refused.labels("not_quality_lead").inc()
            raise PageError(403, "error.403")
        action = await load(user, action_id)
        if not may_request_evaluation(action):
            raise PageError(409, "error.409", action.status)
        try:
            await actions.evaluate_action(user.access_token, user.principal.network_id, action)
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels("evaluation").inc()
        return back(request, action_id, "flash.evaluated")

    return router
