"""Problems for the quality lead: ranked by risk across sites, each one's page, and the form
that turns a problem into a plan (its draft action filled in and proposed for validation).

Read from the actions API (the drafts keep the problem they were made from): the analyzer
has no HTTP endpoint for problems.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console.adapters.api import ApiError
from boucle_console.domain.problems import (
    PLAN_STAGE,
    ProblemView,
    problem_of,
    ranked,
    sites_of,
    split_lines,
)
from boucle_console.oidc import User
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
from boucle_runtime.auth import Role

Owner = Annotated[
    str, Form(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$")
]
Filter = Annotated[str | None, Form(max_length=128)]
PLANNABLE = frozenset({"draft", "reopened"})  # where the plan form fills the draft in
PLANNERS = frozenset({Role.QUALITY_LEAD, Role.SITE_MANAGER})


def may_plan(user: User, site_id: str | None) -> bool:
    return user.principal.role in PLANNERS and may_write(user, site_id)


def problem_router(console: Console) -> APIRouter:
    router = APIRouter(tags=["problems"], default_response_class=HTMLResponse)
    actions, renderer, metrics = console.actions, console.renderer, console.metrics

    @router.get("/problems", name="problems", summary="Problems ranked by risk, filterable")
    async def problems_page(
        request: Request, user: UserDep, site: str | None = None, stage: str | None = None
    ) -> HTMLResponse:
        try:
            drafts = await actions.problem_drafts(user.access_token, user.principal.network_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        every = ranked(drafts)
        chosen_stage = stage if stage in set(PLAN_STAGE.values()) else None
        return renderer.page(
            request,
            "problems.html",
            user,
            problems=ranked(drafts, site=site or None, stage=chosen_stage),
            sites=sites_of(every),
            site=site or "",
            stage=chosen_stage or "",
            stages=("to_plan", "planned", "closed"),
        )

    async def load(user: User, action_id: str) -> ProblemView:
        network = user.principal.network_id
        try:
            action = await actions.action(user.access_token, network, action_id)
        except ApiError as exc:
            raise api_error(exc) from exc
        problem = problem_of(action)
        if problem is None:
            raise PageError(404, "error.404")
        return problem

    @router.get("/problems/{action_id}", name="problem", summary="One problem and its plan")
    async def problem_page(request: Request, action_id: str, user: UserDep) -> HTMLResponse:
        problem = await load(user, action_id)
        try:
            cases = await actions.cases(user.access_token, user.principal.network_id)
        except ApiError:
            cases = []  # the related complaints are then shown by their ids only
        related = {c.source_ref: c for c in cases if c.source_ref in problem.complaint_ids}
        return renderer.page(
            request,
            "problem.html",
            user,
            problem=problem,
            related=related,
            may_plan=may_plan(user, problem.action.site_id) and problem.action.status in PLANNABLE,
        )

    @router.post("/problems/{action_id}/plan", summary="Turn a problem into a plan")
    async def plan(
        request: Request,
        action_id: str,
        *,
        user: UserDep,
        csrf_token: Csrf,
        objective: Annotated[str, Form(min_length=1, max_length=2_000)],
        measures: Annotated[str, Form(min_length=1, max_length=20_000)],
        owner: Owner,
        due_date: Annotated[date, Form()],
        root_cause_analysis: OptionalText = None,
    ) -> Response:
        console.writer(request, user, csrf_token)
        listed = split_lines(measures)
        if not listed or not objective.strip():
            raise PageError(422, "error.invalid", "measures")
        problem = await load(user, action_id)
        if not may_plan(user, problem.action.site_id):
            metrics.refused.labels("not_planner").inc()
            raise PageError(403, "error.403")
        if problem.action.status not in PLANNABLE:
            raise PageError(409, "error.409", "plan")
        changes: dict[str, Any] = {
            "objective": objective.strip(),
            "measures": list(listed),
            "owner": owner.strip(),
            "due_date": due_date.isoformat(),
        }
        if (root_cause_analysis or "").strip():
            changes["root_cause_analysis"] = (root_cause_analysis or "").strip()
        network = user.principal.network_id
        try:
            filled = await actions.update_action(
                user.access_token, network, problem.action, changes
            )
            await actions.transition_action(
                user.access_token, network, filled, "proposed", "Plan proposé depuis le problème"
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        metrics.action_steps.labels("planned").inc()
        flash(request, "flash.planned")
        return RedirectResponse(request.url_for("action", action_id=action_id), status_code=303)

    return router
