"""Sign-in with OpenID Connect (authorization code + PKCE S256), and who is signed in.

Authlib reads the provider's discovery document (``<issuer>/.well-known/openid-configuration``),
keeps state, nonce and the PKCE verifier in the (encrypted) session, exchanges the code and
checks the ID token. The console then keeps the tokens in the session and, on every request,
verifies the access token with the runtime's :class:`TokenVerifier`, exactly as the actions
and reporter APIs will: its claims give the role, network and sites.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from boucle_console.settings import ConsoleSettings
from boucle_runtime.auth import InvalidTokenError, Principal, TokenVerifier

with warnings.catch_warnings():  # Authlib warns about its own httpx module at import
    warnings.simplefilter("ignore")
    from authlib.integrations.starlette_client import OAuth, OAuthError

TOKENS = "tokens"
PROVIDER = "idp"


class NotSignedInError(Exception):
    """No session, or its token expired or no longer verifies: sign in again."""


@dataclass(frozen=True, slots=True)
class User:
    principal: Principal
    access_token: str
    name: str | None = None  # from the ID token, for the page header only
    email: str | None = None  # from the ID token: whose reminder preferences these are

    @property
    def display_name(self) -> str:
        return self.name or self.principal.subject


class SignIn:
    """The OIDC client of the console; ``enabled`` is false without an issuer configured."""

    def __init__(self, settings: ConsoleSettings, verifier: TokenVerifier) -> None:
        self._settings = settings
        self._verifier = verifier
        self._oauth = OAuth()
        self.enabled = settings.oidc_issuer_url is not None
        if settings.oidc_issuer_url is not None:
            issuer = settings.oidc_issuer_url.rstrip("/")
            secret = settings.oidc_client_secret
            self._oauth.register(
                PROVIDER,
                server_metadata_url=f"{issuer}/.well-known/openid-configuration",
                client_id=settings.oidc_client_id,
                client_secret=secret.get_secret_value() if secret else None,
                client_kwargs={
                    "scope": settings.oidc_scopes,
                    "code_challenge_method": "S256",  # PKCE, whatever the client type
                    # A public client (no secret) authenticates with its id only.
                    "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
                },
            )

    def _url(self, request: Request, name: str) -> str:
        if self._settings.public_url:
            return self._settings.public_url.rstrip("/") + str(request.app.url_path_for(name))
        return str(request.url_for(name))

    async def redirect(self, request: Request) -> Response:
        client: Any = self._oauth.create_client(PROVIDER)
        response: Response = await client.authorize_redirect(
            request, self._url(request, "callback")
        )
        return response

    async def complete(self, request: Request) -> Principal:
        """Exchange the code; keep the tokens; the principal their access token gives."""
        client: Any = self._oauth.create_client(PROVIDER)
        try:
            token: dict[str, Any] = await client.authorize_access_token(request)
        except OAuthError as exc:
            raise NotSignedInError(str(exc.description or exc.error)) from exc
        access = token.get("access_token")
        if not isinstance(access, str):
            raise NotSignedInError("the provider gave no access token")
        try:
            principal = await self._verifier.verify(access)
        except InvalidTokenError as exc:
            raise NotSignedInError(exc.reason) from exc
        userinfo = token.get("userinfo") or {}
        request.session[TOKENS] = {
            "access_token": access,
            "id_token": token.get("id_token"),
            "expires_at": token.get("expires_at") or int(time.time()) + 3600,
            "name": userinfo.get("name") if isinstance(userinfo, dict) else None,
            "email": userinfo.get("email") if isinstance(userinfo, dict) else None,
        }
        return principal

    async def logout(self, request: Request) -> Response:
        """Forget the session; RP-initiated logout when the provider offers it.

        The provider sends the browser back to the console's root, which leads to sign-in.
        """
        tokens = request.session.get(TOKENS) or {}
        request.session.clear()
        home = self._url(request, "inbox")
        if not self.enabled:
            return RedirectResponse(home, status_code=303)
        client: Any = self._oauth.create_client(PROVIDER)
        metadata = await client.load_server_metadata()
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            return RedirectResponse(home, status_code=303)
        response: Response = await client.logout_redirect(
            request, post_logout_redirect_uri=home, id_token_hint=tokens.get("id_token")
        )
        request.session.clear()  # Authlib may have stored a logout state: not needed
        return response

    async def user(self, request: Request) -> User:
        tokens = request.session.get(TOKENS)
        if not isinstance(tokens, dict) or not isinstance(tokens.get("access_token"), str):
            raise NotSignedInError("not signed in")
        try:
            principal = await self._verifier.verify(tokens["access_token"])
        except InvalidTokenError as exc:
            request.session.pop(TOKENS, None)
            raise NotSignedInError(exc.reason) from exc
        name, email = tokens.get("name"), tokens.get("email")
        return User(
            principal,
            tokens["access_token"],
            name if isinstance(name, str) else None,
            email if isinstance(email, str) else None,
        )
