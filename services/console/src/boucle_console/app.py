"""Composition root of the console: wiring only, nothing connects at import.

No broker and no database: the runtime's operational router (health, readiness, metrics)
is mounted directly instead of ``service_app``, readiness meaning "the actions and
reporter APIs answer".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boucle_console import __version__
from boucle_console.adapters.api import ActionsApi, HttpActionsApi, HttpReporterApi, ReporterApi
from boucle_console.adapters.collector import CollectorApi, HttpCollectorApi
from boucle_console.adapters.surveys import HttpSurveysApi, SurveysApi
from boucle_console.domain.public_form import FormTokens, SiteBudget
from boucle_console.metrics import ConsoleMetrics
from boucle_console.notify.mailer import Mailer
from boucle_console.notify.runner import build_notifier
from boucle_console.notify.state import FileState, MemoryState, NotifyState
from boucle_console.oidc import NotSignedInError, SignIn
from boucle_console.pages.collection import collection_router
from boucle_console.pages.dossier import dossier_router
from boucle_console.pages.meetings import meeting_router
from boucle_console.pages.notes import notes_router
from boucle_console.pages.notifications import notification_router
from boucle_console.pages.problems import problem_router
from boucle_console.pages.progress import progress_router
from boucle_console.pages.public_form import PublicForm, public_router
from boucle_console.pages.rendering import Renderer
from boucle_console.pages.routes import Console, PageError, pages_router
from boucle_console.session import SessionCodec, SessionMiddleware, random_secret
from boucle_console.settings import ConsoleSettings
from boucle_runtime.auth import TokenVerifier
from boucle_runtime.limits import BodySizeLimit
from boucle_runtime.logging import configure_logging, get_logger
from boucle_runtime.operational import RequestMetrics, operational_router

SERVICE = "console"
STATIC = Path(__file__).resolve().parent / "static"
log = get_logger(__name__)
SECURITY_HEADERS = {
    # Everything is served by the console itself: no CDN, no inline script.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


class SecurityHeaders:
    """Pure ASGI: the same protective headers on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, with_headers if scope["type"] == "http" else send)


def create_app(
    settings: ConsoleSettings,
    *,
    actions: ActionsApi | None = None,
    reporter: ReporterApi | None = None,
    mailer: Mailer | None = None,
    surveys: SurveysApi | None = None,
    collector: CollectorApi | None = None,
) -> FastAPI:
    """``actions``, ``reporter``, ``surveys``, ``collector``, ``mailer``: other clients of
    those APIs and of SMTP (unit tests give fakes)."""
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = ConsoleMetrics(registry)
    timeout = httpx.Timeout(settings.api_timeout_seconds)
    actions_http = httpx.AsyncClient(base_url=settings.actions_url, timeout=timeout)
    reporter_http = httpx.AsyncClient(base_url=settings.reporter_url, timeout=timeout)
    actions_api = actions or HttpActionsApi(actions_http)
    reporter_api = reporter or HttpReporterApi(reporter_http)
    surveys_api, collector_api, more_http = _intake_apis(settings, timeout, surveys, collector)
    verifier = TokenVerifier(settings)
    sign_in = SignIn(settings, verifier)
    if not sign_in.enabled:
        log.warning("console_sign_in_disabled", reason="no oidc_issuer_url configured")
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    if secret is None:
        log.warning("console_session_secret_random", reason="sessions end on restart")
    # Without a configured secret, one drawn now: sessions and unsubscribe links then end
    # with the process.
    signing_secret = secret or random_secret()
    codec = SessionCodec(signing_secret, max_age_seconds=settings.session_max_age_seconds)
    renderer = Renderer.create(settings.default_locale)
    state: NotifyState = (
        FileState(settings.notify_state_path) if settings.notify_state_path else MemoryState()
    )
    notifier = build_notifier(
        settings,
        actions=actions_api,
        verifier=verifier,
        state=state,
        metrics=metrics,
        secret=signing_secret,
        mailer=mailer,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stopping = asyncio.Event()
        loop = (
            asyncio.create_task(notifier.loop(settings.notify_interval_seconds)(stopping))
            if notifier
            else None
        )
        try:
            yield
        finally:
            stopping.set()
            if loop is not None:
                await loop
            await actions_http.aclose()
            await reporter_http.aclose()
            for client in more_http:
                await client.aclose()

    app = FastAPI(
        title="Boucle console",
        version=__version__,
        description="The web pages where site managers, quality leads, the direction and "
        "auditors handle cases and improvement actions.",
        openapi_url="/openapi.json" if settings.api_schema_enabled else None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    # The last added runs first: metrics see every answer, the body limit runs before any
    # route reads a form, the session is there for every page.
    app.add_middleware(SessionMiddleware, codec=codec, secure=settings.session_cookie_secure)
    app.add_middleware(BodySizeLimit, max_bytes=settings.http_max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics, registry=registry)
    app.include_router(
        operational_router(
            registry=registry,
            checks={"actions": actions_api.ready, "reporter": reporter_api.ready},
        )
    )
    console = Console(sign_in, actions_api, reporter_api, renderer, metrics)
    app.state.console = console
    app.state.notifier = notifier
    app.state.notify_state = state  # shared by the notifier and the preference pages
    public = PublicForm(
        collector=collector_api,
        tokens=FormTokens(signing_secret),
        budget=SiteBudget(per_hour=settings.public_form_per_site_per_hour),
        min_seconds=settings.public_form_min_seconds,
        max_age_seconds=settings.public_form_max_age_seconds,
    )
    app.state.public_form = public
    _pages(app, console, state, signing_secret, surveys=surveys_api, public=public)
    return app


def _intake_apis(
    settings: ConsoleSettings,
    timeout: httpx.Timeout,
    surveys: SurveysApi | None,
    collector: CollectorApi | None,
) -> tuple[SurveysApi, CollectorApi | None, tuple[httpx.AsyncClient, ...]]:
    """The surveys API, and the collector's for the public form (None without an API key:
    the form then says it is unavailable), with the clients to close at the end."""
    surveys_http = httpx.AsyncClient(base_url=settings.surveys_url, timeout=timeout)
    collector_http = httpx.AsyncClient(base_url=settings.collector_url, timeout=timeout)
    key = settings.collector_api_key
    collector_api = collector or (
        HttpCollectorApi(collector_http, key.get_secret_value()) if key else None
    )
    return surveys or HttpSurveysApi(surveys_http), collector_api, (surveys_http, collector_http)


def _pages(
    app: FastAPI,
    console: Console,
    state: NotifyState,
    secret: str,
    *,
    surveys: SurveysApi,
    public: PublicForm,
) -> None:
    """Every page, the static files, and the error pages."""
    for router in (
        collection_router(console, surveys),
        public_router(console, public),
        notes_router(console),
        pages_router(console),
        problem_router(console),
        progress_router(console),
        meeting_router(console),
        dossier_router(console),
        notification_router(console, state, secret),
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    sign_in, renderer = console.sign_in, console.renderer

    async def not_signed_in(request: Request, _: Exception) -> Response:
        return RedirectResponse(request.url_for("login"), status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        try:
            user = await sign_in.user(request)
        except NotSignedInError:
            user = None
        return renderer.page(
            request, "error.html", user, status=exc.status, key=exc.key, detail=exc.detail
        )

    app.add_exception_handler(NotSignedInError, not_signed_in)
    app.add_exception_handler(PageError, page_error)
