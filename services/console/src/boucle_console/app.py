"""Composition root of the console: wiring only, nothing connects at import.

No broker and no database: the runtime's operational router (health, readiness, metrics)
is mounted directly instead of ``service_app``, readiness meaning "the actions and
reporter APIs answer".
"""

from __future__ import annotations

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
from boucle_console.adapters.api import ActionsApi, HttpActionsApi, HttpReporterApi
from boucle_console.metrics import ConsoleMetrics
from boucle_console.oidc import NotSignedInError, SignIn
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


def create_app(settings: ConsoleSettings, *, actions: ActionsApi | None = None) -> FastAPI:
    """``actions``: another client of the actions API (unit tests give a fake one)."""
    configure_logging(service=SERVICE, level=settings.log_level, fmt=settings.log_format)
    registry = CollectorRegistry()
    metrics = ConsoleMetrics(registry)
    timeout = httpx.Timeout(settings.api_timeout_seconds)
    actions_http = httpx.AsyncClient(base_url=settings.actions_url, timeout=timeout)
    reporter_http = httpx.AsyncClient(base_url=settings.reporter_url, timeout=timeout)
    actions_api = actions or HttpActionsApi(actions_http)
    reporter_api = HttpReporterApi(reporter_http)
    verifier = TokenVerifier(settings)
    sign_in = SignIn(settings, verifier)
    if not sign_in.enabled:
        log.warning("console_sign_in_disabled", reason="no oidc_issuer_url configured")
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    if secret is None:
        log.warning("console_session_secret_random", reason="sessions end on restart")
    codec = SessionCodec(
        secret or random_secret(), max_age_seconds=settings.session_max_age_seconds
    )
    renderer = Renderer.create(settings.default_locale)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await actions_http.aclose()
            await reporter_http.aclose()

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
    app.include_router(pages_router(console))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

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
    return app
