"""The session: a cookie encrypted and authenticated with Fernet, read and written per request.

It holds the person's tokens (so the browser never sees them in clear), the CSRF token and,
during sign-in, the OIDC state, nonce and PKCE verifier (Authlib keeps them in
``request.session``). Fernet's timestamp bounds the session's life whatever the cookie's
``Max-Age`` says, and a cookie that does not decrypt is simply no session.
"""

from __future__ import annotations

import base64
import json
import secrets
from http.cookies import SimpleCookie
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "boucle_console"
CSRF_KEY = "csrf"


class SessionCodec:
    """Encrypts a session dict into a cookie value and back (None when invalid or too old)."""

    def __init__(self, secret: str, *, max_age_seconds: int) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"boucle-console-session"
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.max_age_seconds = max_age_seconds

    def encode(self, session: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(session, separators=(",", ":")).encode()).decode()

    def decode(self, value: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._fernet.decrypt(value.encode(), ttl=self.max_age_seconds))
        except (InvalidToken, ValueError):
            return None
        return data if isinstance(data, dict) else None


def random_secret() -> str:
    return secrets.token_urlsafe(48)


class SessionMiddleware:
    """Pure ASGI: ``scope["session"]`` from the cookie; the cookie rewritten when it changed."""

    def __init__(self, app: ASGIApp, *, codec: SessionCodec, secure: bool) -> None:
        self._app = app
        self._codec = codec
        self._secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        cookie = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie.load(value.decode("latin-1"))
        morsel = cookie.get(COOKIE)
        loaded = self._codec.decode(morsel.value) if morsel else None
        session: dict[str, Any] = loaded or {}
        scope["session"] = session
        before = json.dumps(session, sort_keys=True)
        had_cookie = morsel is not None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = json.dumps(session, sort_keys=True)
                if now != before or (had_cookie and loaded is None):
                    headers = MutableHeaders(scope=message)
                    headers.append("set-cookie", self._cookie(session))
            await send(message)

        await self._app(scope, receive, send_with_cookie)

    def _cookie(self, session: dict[str, Any]) -> str:
        flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self._secure else "")
        if not session:
            return f"{COOKIE}=; Max-Age=0{flags}"
        value = self._codec.encode(session)
        return f"{COOKIE}={value}; Max-Age={self._codec.max_age_seconds}{flags}"


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, drawn on first use; every form carries it."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def csrf_valid(session: dict[str, Any], submitted: object) -> bool:
    expected = session.get(CSRF_KEY)
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and secrets.compare_digest(expected.encode(), submitted.encode())
    )
