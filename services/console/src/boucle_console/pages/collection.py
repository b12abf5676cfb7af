"""The collection plan (who is asked what, when, through which form), its versions, the
quality lead's form publishing a new version, and the response rates: all from the surveys
service with the person's token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from boucle_console import locale
from boucle_console.adapters.api import ApiError, utc_now
from boucle_console.adapters.surveys import Plans, RateRow, SurveysApi
from boucle_console.domain.plan import (
    KINDS,
    MAX_RULES,
    PARIS,
    STAKEHOLDERS,
    TRIGGERS,
    RuleDraft,
    drafts_from_form,
    effective_moment,
    rules_body,
    sentence,
)
from boucle_console.oidc import User
from boucle_console.pages.rendering import flash
from boucle_console.pages.routes import Console, PageError, UserDep, api_error
from boucle_runtime.auth import Role

GROUPINGS = ("site_id", "respondent_role", "survey_kind", "programme_id")
DEFAULT_GROUPING = ("site_id", "respondent_role", "survey_kind")


def _publisher(user: User) -> bool:
    return user.principal.role is Role.QUALITY_LEAD and not user.principal.read_only


def _sorted(rows: list[RateRow], by: tuple[str, ...]) -> list[RateRow]:
    return sorted(rows, key=lambda r: tuple(r.group.get(name) or "" for name in by))


async def _plans_of(surveys: SurveysApi, user: User) -> Plans:
    try:
        return await surveys.plans(user.access_token, user.principal.network_id)
    except ApiError as exc:
        raise api_error(exc) from exc


def _words(console: Console, request: Request) -> tuple[Callable[..., str], str]:
    lang = console.renderer.locale_of(request)
    return locale.translator(lang), lang


def collection_router(console: Console, surveys: SurveysApi) -> APIRouter:
    router = APIRouter(tags=["collection plan"], default_response_class=HTMLResponse)
    renderer = console.renderer

    @router.get("/collection-plan", name="collection_plan", summary="The collection plan")
    async def plan_page(request: Request, user: UserDep) -> HTMLResponse:
        plans = await _plans_of(surveys, user)
        t, lang = _words(console, request)
        return renderer.page(
            request,
            "collection_plan.html",
            user,
            plans=plans,
            current=plans.current,
            versions=sorted(plans.versions, key=lambda v: v.version, reverse=True),
            sentence=lambda rule: sentence(rule, t, lang),
            may_publish=_publisher(user),
        )

    _form_routes(router, console, surveys)
    _rate_routes(router, console, surveys)
    return router


def _form_routes(router: APIRouter, console: Console, surveys: SurveysApi) -> None:
    renderer, metrics = console.renderer, console.metrics

    def form_page(
        request: Request,
        user: User,
        drafts: list[RuleDraft],
        *,
        effective: str,
        note: str,
        error: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        return renderer.page(
            request,
            "collection_plan_form.html",
            user,
            status=status,
            drafts=drafts,
            effective=effective,
            note=note,
            error=error,
            stakeholders=STAKEHOLDERS,
            kinds=KINDS,
            triggers=TRIGGERS,
            max_rules=MAX_RULES,
        )

    def refuse_non_publisher(user: User) -> None:
        if not _publisher(user):
            metrics.refused.labels("not_quality_lead").inc()
            raise PageError(403, "error.403")

    @router.get("/collection-plan/new", name="plan_form", summary="Publish a new version")
    async def plan_form(request: Request, user: UserDep) -> HTMLResponse:
        refuse_non_publisher(user)
        plans = await _plans_of(surveys, user)
        base = plans.current or plans.latest
        drafts = [RuleDraft.of(r) for r in base.rules] if base else [RuleDraft.blank(0)]
        tomorrow = utc_now().astimezone(PARIS).date() + timedelta(days=1)
        return form_page(request, user, drafts, effective=tomorrow.isoformat(), note="")

    @router.post("/collection-plan/new", summary="Add or remove a rule, or publish")
    async def plan_submit(request: Request, user: UserDep) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        console.writer(request, user, form.get("csrf_token", ""))
        refuse_non_publisher(user)
        drafts = drafts_from_form(form)
        op = form.get("op", "publish")
        effective, note = form.get("effective_from", ""), form.get("note", "").strip()
        # Adding or removing a rule shows the form again: nothing is sent until published.
        if op == "add" and len(drafts) < MAX_RULES:
            drafts.append(RuleDraft.blank(len(drafts)))
            return form_page(request, user, drafts, effective=effective, note=note)
        if op.startswith("remove-") and op[7:].isdigit():
            index = int(op[7:])
            drafts = [d for i, d in enumerate(drafts) if i != index]
            return form_page(request, user, drafts, effective=effective, note=note)
        return await publish(request, user, drafts, effective, note)

    async def publish(
        request: Request, user: User, drafts: list[RuleDraft], effective: str, note: str
    ) -> Response:
        t, _ = _words(console, request)

        def again(error: str) -> HTMLResponse:
            return form_page(
                request, user, drafts, effective=effective, note=note, error=error, status=422
            )

        if not drafts:
            return again(t("planform.error.no_rule"))
        try:
            day = date.fromisoformat(effective)
        except ValueError:
            return again(t("planform.error.effective"))
        rules, problems = rules_body(drafts)
        if problems:
            number, field = problems[0]
            return again(t("planform.error.number", rule=number, field=t(f"planform.{field}")))
        body = {"effective_from": effective_moment(day).isoformat(), "rules": rules}
        if note:
            body["note"] = note
        try:
            await surveys.publish_plan(user.access_token, user.principal.network_id, body)
        except ApiError as exc:
            if exc.status == 422:  # the service's French reason, shown as it wrote it
                return again(exc.detail)
            raise api_error(exc) from exc
        metrics.action_steps.labels("collection_plan").inc()
        flash(request, "flash.plan_published")
        return RedirectResponse(request.url_for("collection_plan"), status_code=303)


def _rate_routes(router: APIRouter, console: Console, surveys: SurveysApi) -> None:
    renderer = console.renderer

    @router.get("/response-rates", name="response_rates", summary="Response rates")
    async def rates_page(
        request: Request,
        user: UserDep,
        by: list[str] = Query(default=[]),  # noqa: B008 - FastAPI's way for a repeated field
    ) -> HTMLResponse:
        chosen = tuple(g for g in GROUPINGS if g in by) or DEFAULT_GROUPING
        try:
            rows = await surveys.response_rates(
                user.access_token, user.principal.network_id, chosen
            )
        except ApiError as exc:
            raise api_error(exc) from exc
        return renderer.page(
            request,
            "response_rates.html",
            user,
            rows=_sorted(rows, chosen),
            by=chosen,
            groupings=GROUPINGS,
        )
