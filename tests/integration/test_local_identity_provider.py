"""The local OpenID Connect provider (deploy/local/oidc) as the console will use it.

A real process (``deploy/local/services.sh start oidc``; ``OIDC_ISSUER_URL`` points at it),
driven over HTTP as a browser and a relying party would: authorization code with PKCE
(S256), the French login form, the token endpoint. The access tokens it signs are checked
with the runtime's own :class:`TokenVerifier` through the JWKS URL, as every Boucle API
checks them, so the demo users' claims are proven to be the ones ``boucle_runtime.auth``
reads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest

from boucle_runtime.auth import AuthSettings, InvalidTokenError, Principal, Role, TokenVerifier

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "deploy" / "local" / "oidc" / "config.json").read_text())
CLIENT = CONFIG["clients"][0]
CLIENT_ID: str = CLIENT["id"]
REDIRECT_URI: str = CLIENT["redirect_uris"][0]
USERS: dict[str, dict[str, Any]] = {user["username"]: user for user in CONFIG["users"]}
AUDIENCE = "boucle"


@dataclass(frozen=True)
class Provider:
    issuer: str
    discovery: dict[str, Any]

    def endpoint(self, name: str) -> str:
        return str(self.discovery[name])


@pytest.fixture(scope="module")
def provider() -> Provider:
    issuer = os.environ.get("OIDC_ISSUER_URL")
    if not issuer:
        pytest.fail(
            "No OIDC provider: run `deploy/local/services.sh start oidc` and "
            '`eval "$(deploy/local/services.sh env)"` (or `make test`), or set OIDC_ISSUER_URL.'
        )
    answer = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    answer.raise_for_status()
    return Provider(issuer=issuer, discovery=answer.json())


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize(
    http: httpx.Client,
    provider: Provider,
    *,
    challenge: str | None,
    scope: str = "openid profile email",
) -> tuple[httpx.Response, str, str]:
    """GET /authorize; returns the answer, the state and the nonce sent."""
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": scope,
        "state": state,
        "nonce": nonce,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return http.get(provider.endpoint("authorization_endpoint"), params=params), state, nonce


def login_form(http: httpx.Client, provider: Provider, challenge: str) -> tuple[str, str, str]:
    """Up to the login form: its URL, the sign-in id it carries, and the state/nonce."""
    answer, state, nonce = authorize(http, provider, challenge=challenge)
    assert answer.status_code == 302, answer.text
    form_url = urljoin(provider.issuer + "/", answer.headers["location"])
    page = http.get(form_url)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert '<label for="username">Identifiant</label>' in page.text
    assert '<label for="password">Mot de passe</label>' in page.text
    match = re.search(r'name="id" value="([^"]+)"', page.text)
    assert match, page.text
    return form_url, match.group(1), f"{state} {nonce}"


def sign_in(
    http: httpx.Client, provider: Provider, username: str, verifier_challenge: tuple[str, str]
) -> tuple[str, str]:
    """Browser part of the flow; returns the code and the nonce."""
    _, challenge = verifier_challenge
    form_url, request_id, state_nonce = login_form(http, provider, challenge)
    state, nonce = state_nonce.split()
    posted = http.post(
        form_url,
        data={"id": request_id, "username": username, "password": USERS[username]["password"]},
    )
    assert posted.status_code == 302, posted.text
    callback = http.get(urljoin(provider.issuer + "/", posted.headers["location"]))
    assert callback.status_code == 302, callback.text
    location = callback.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0], nonce


def exchange(
    http: httpx.Client, provider: Provider, code: str, verifier: str | None
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    return http.post(
        provider.endpoint("token_endpoint"), data=data, auth=(CLIENT_ID, CLIENT["secret"])
    )


def tokens_for(http: httpx.Client, provider: Provider, username: str) -> tuple[dict[str, Any], str]:
    pair = pkce_pair()
    code, nonce = sign_in(http, provider, username, pair)
    answer = exchange(http, provider, code, pair[0])
    assert answer.status_code == 200, answer.text
    return answer.json(), nonce


def verifier_for(provider: Provider) -> TokenVerifier:
    """Configured as a Boucle service would be (``BOUCLE_<SVC>_AUTH_*``)."""
    return TokenVerifier(
        AuthSettings(
            auth_issuer=provider.issuer,
            auth_audience=AUDIENCE,
            auth_jwks_url=provider.endpoint("jwks_uri"),
        )
    )


def test_discovery_names_the_issuer_and_requires_s256(provider: Provider) -> None:
    assert provider.discovery["issuer"] == provider.issuer
    assert provider.discovery["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in provider.discovery["id_token_signing_alg_values_supported"]
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
        assert provider.endpoint(name).startswith(provider.issuer + "/")
    assert provider.endpoint("end_session_endpoint").startswith(provider.issuer + "/")
    keys = httpx.get(provider.endpoint("jwks_uri"), timeout=10).json()["keys"]
    assert [(key["kty"], key["alg"], key["use"]) for key in keys] == [("RSA", "RS256", "sig")]


EXPECTED = {
    "qualite": Principal(
        subject="usr-qualite", network_id="reseau-horizon", role=Role.QUALITY_LEAD
    ),
    "site-lyon": Principal(
        subject="usr-site-lyon",
        network_id="reseau-horizon",
        role=Role.SITE_MANAGER,
        site_ids=frozenset({"lyon"}),
    ),
    "site-paris": Principal(
        subject="usr-site-paris",
        network_id="reseau-horizon",
        role=Role.SITE_MANAGER,
        site_ids=frozenset({"paris-11"}),
    ),
    "direction": Principal(
        subject="usr-direction", network_id="reseau-horizon", role=Role.DIRECTION
    ),
    "auditeur": Principal(
        subject="usr-auditeur",
        network_id="reseau-horizon",
        role=Role.AUDITOR,
        site_ids=frozenset({"lyon", "marseille"}),
        period_start=datetime(2026, 1, 1, tzinfo=UTC),
        period_end=datetime(2027, 1, 1, tzinfo=UTC),  # a date-only end includes that day
    ),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_code_flow_with_pkce_gives_tokens_the_services_accept(
    http: httpx.Client, provider: Provider, username: str
) -> None:
    tokens, nonce = tokens_for(http, provider, username)
    assert tokens["token_type"] == "Bearer"

    principal = verifier_for(provider).verify_sync(tokens["access_token"])
    assert principal == EXPECTED[username]

    jwks = jwt.PyJWKClient(provider.endpoint("jwks_uri"))
    id_token = tokens["id_token"]
    claims = jwt.decode(
        id_token,
        jwks.get_signing_key_from_jwt(id_token).key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=provider.issuer,
    )
    user = USERS[username]
    assert claims["sub"] == user["subject"]
    assert claims["nonce"] == nonce
    assert claims["azp"] == CLIENT_ID
    assert claims["name"] == user["name"]
    assert claims["email"] == user["email"]
    assert {key: claims[key] for key in user["claims"]} == user["claims"]


def test_userinfo_answers_the_claims_and_logout_ends_the_session(
    http: httpx.Client, provider: Provider
) -> None:
    tokens, _ = tokens_for(http, provider, "site-lyon")
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = http.get(provider.endpoint("userinfo_endpoint"), headers=bearer)
    assert info.status_code == 200, info.text
    assert info.json()["site_ids"] == ["lyon"]
    assert info.json()["preferred_username"] == "site-lyon"

    after_logout = CLIENT["post_logout_redirect_uris"][0]
    logout = http.get(
        provider.endpoint("end_session_endpoint"),
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": after_logout,
            "state": "bye",
        },
    )
    assert logout.status_code == 302, logout.text
    assert logout.headers["location"].startswith(after_logout)
    # The library answers 403 (invalid token) once the session is gone.
    gone = http.get(provider.endpoint("userinfo_endpoint"), headers=bearer)
    assert gone.status_code in (401, 403)


def test_refresh_token_gives_a_new_access_token(http: httpx.Client, provider: Provider) -> None:
    pair = pkce_pair()
    _, challenge = pair
    answer, _, _ = authorize(
        http, provider, challenge=challenge, scope="openid profile offline_access"
    )
    form_url = urljoin(provider.issuer + "/", answer.headers["location"])
    request_id = re.search(r'name="id" value="([^"]+)"', http.get(form_url).text)
    assert request_id
    posted = http.post(
        form_url,
        data={"id": request_id.group(1), "username": "qualite", "password": "demo-qualite"},
    )
    callback = http.get(urljoin(provider.issuer + "/", posted.headers["location"]))
    code = parse_qs(urlsplit(callback.headers["location"]).query)["code"][0]
    first = exchange(http, provider, code, pair[0]).json()
    assert first["refresh_token"]
    refreshed = http.post(
        provider.endpoint("token_endpoint"),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(CLIENT_ID, CLIENT["secret"]),
    )
    assert refreshed.status_code == 200, refreshed.text
    principal = verifier_for(provider).verify_sync(refreshed.json()["access_token"])
    assert principal == EXPECTED["qualite"]
    # Rotation: the first refresh token is spent.
    again = http.post(
        provider.endpoint("token_endpoint"),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(CLIENT_ID, CLIENT["secret"]),
    )
    assert again.status_code == 400


def test_wrong_password_is_refused(http: httpx.Client, provider: Provider) -> None:
    _, challenge = pkce_pair()
    form_url, request_id, _ = login_form(http, provider, challenge)
    for username, password in (("qualite", "not-the-password"), ("nobody", "demo-qualite")):
        refused = http.post(
            form_url, data={"id": request_id, "username": username, "password": password}
        )
        assert refused.status_code == 401
        assert "location" not in refused.headers
        assert "Identifiant ou mot de passe incorrect." in refused.text
        assert 'role="alert"' in refused.text


def test_authorize_without_pkce_is_refused(http: httpx.Client, provider: Provider) -> None:
    answer, state, _ = authorize(http, provider, challenge=None)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "PKCE" in query["error_description"][0]
    assert query["state"] == [state]


def test_code_without_or_with_a_wrong_verifier_is_refused(
    http: httpx.Client, provider: Provider
) -> None:
    pair = pkce_pair()
    code, _ = sign_in(http, provider, "qualite", pair)
    missing = exchange(http, provider, code, None)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    wrong = exchange(http, provider, code, pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert exchange(http, provider, code, pair[0]).status_code == 200
    # A code works once.
    assert exchange(http, provider, code, pair[0]).status_code == 400


def test_a_token_of_another_issuer_is_refused(http: httpx.Client, provider: Provider) -> None:
    tokens, _ = tokens_for(http, provider, "qualite")
    other = TokenVerifier(
        AuthSettings(
            auth_issuer="https://auth.boucle.local/",
            auth_audience=AUDIENCE,
            auth_jwks_url=provider.endpoint("jwks_uri"),
        )
    )
    with pytest.raises(InvalidTokenError, match="issuer"):
        other.verify_sync(tokens["access_token"])
