"""Bearer JWTs → principals (boucle_runtime.auth): keys, rotation, claims, 401 vs 403."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from boucle_runtime.auth import (
    AccessDeniedError,
    AuthSettings,
    InvalidTokenError,
    Principal,
    Role,
    TokenVerifier,
    install_access_errors,
    principal_dependency,
    principal_from_claims,
)

pytestmark = pytest.mark.unit

ISSUER, AUDIENCE = "https://idp.example/", "boucle"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


RSA_KEY, OTHER_RSA_KEY = rsa_key(), rsa_key()
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        data["alg"] = "RS256"
    else:
        data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        data["alg"] = "ES256"
    return data | {"kid": kid, "use": "sig"}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "usr-1",
        "iat": now,
        "exp": now + 600,
        "network_id": "net-a",
        "role": "quality_lead",
    }
    return {k: v for k, v in (base | overrides).items() if v is not None}


def mint(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = RSA_KEY,
    *,
    kid: str | None = "k1",
    algorithm: str = "RS256",
    **overrides: Any,
) -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(claims(**overrides), key, algorithm=algorithm, headers=headers)


def settings(**values: Any) -> AuthSettings:
    return AuthSettings(auth_issuer=ISSUER, auth_audience=AUDIENCE, **values)


# Module level: the route's annotations are resolved from the module's globals.
Caller = Annotated[
    Principal,
    Depends(principal_dependency(TokenVerifier(settings(auth_public_key=pem(RSA_KEY))))),
]


class Jwks:
    """A real JWKS endpoint on 127.0.0.1 whose key set the test can rotate."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def test_a_token_signed_by_the_configured_public_key_gives_its_principal() -> None:
    verifier = TokenVerifier(settings(auth_public_key=pem(RSA_KEY)))

    principal = verifier.verify_sync(mint(kid=None))

    assert principal == Principal(subject="usr-1", network_id="net-a", role=Role.QUALITY_LEAD)


def test_es256_tokens_are_accepted_too() -> None:
    verifier = TokenVerifier(settings(auth_public_key=pem(EC_KEY)))

    principal = verifier.verify_sync(mint(EC_KEY, kid=None, algorithm="ES256"))

    assert principal.network_id == "net-a"


async def test_keys_come_from_a_jwks_url_and_a_rotated_key_is_fetched_by_its_kid(
    jwks: Jwks,
) -> None:
    jwks.keys = [jwk(RSA_KEY, "k1")]
    verifier = TokenVerifier(settings(auth_jwks_url=jwks.url, auth_jwks_refresh_cooldown_seconds=0))

    assert (await verifier.verify(mint(kid="k1"))).subject == "usr-1"
    jwks.keys = [jwk(RSA_KEY, "k1"), jwk(EC_KEY, "k2")]  # the provider rotates
    rotated = await verifier.verify(mint(EC_KEY, kid="k2", algorithm="ES256", sub="usr-2"))

    assert rotated.subject == "usr-2"
    assert jwks.fetches == 2


async def test_a_kid_the_jwks_does_not_know_is_refused(jwks: Jwks) -> None:
    jwks.keys = [jwk(RSA_KEY, "k1")]
    verifier = TokenVerifier(settings(auth_jwks_url=jwks.url))

    with pytest.raises(InvalidTokenError, match="no key"):
        await verifier.verify(mint(OTHER_RSA_KEY, kid="k-unknown"))


async def test_an_unreachable_jwks_is_a_401_not_a_crash() -> None:
    verifier = TokenVerifier(settings(auth_jwks_url="http://127.0.0.1:9/jwks.json"))

    with pytest.raises(InvalidTokenError, match="could not be fetched"):
        await verifier.verify(mint())


# Minted when the test runs, not at collection: a token made at import would expire (10 min)
# before its test runs in a long suite, and refuse for that reason instead of its own.
BAD_TOKENS: list[tuple[Callable[[], str], str]] = [
    (lambda: mint(OTHER_RSA_KEY, kid=None), "signature does not verify"),
    (lambda: mint(kid=None, exp=int(time.time()) - 3600), "expired"),
    (lambda: mint(kid=None, aud="other-api"), "audience"),
    (lambda: mint(kid=None, iss="https://evil.example/"), "issuer"),
    (lambda: mint(kid=None, exp=None), "'exp' is missing"),
    (lambda: mint(kid=None, nbf=int(time.time()) + 3600), "not valid yet"),
    (lambda: "not-a-jwt", "malformed"),
    (
        lambda: jwt.encode(claims(), "a-shared-secret-of-at-least-32-bytes", algorithm="HS256"),
        "not accepted",
    ),
    (lambda: mint(kid=None, network_id=None), "'network_id' is missing"),
    (lambda: mint(kid=None, role="admin"), "'role' must be one of"),
    (lambda: mint(kid=None, role="site_manager"), "needs 'site_ids'"),
    (lambda: mint(kid=None, role="auditor", site_ids=["s1"]), "period_start"),
]


@pytest.mark.parametrize(("make_token", "reason"), BAD_TOKENS, ids=[r for _, r in BAD_TOKENS])
def test_bad_tokens_are_refused_with_their_reason(
    make_token: Callable[[], str], reason: str
) -> None:
    verifier = TokenVerifier(settings(auth_public_key=pem(RSA_KEY)))

    with pytest.raises(InvalidTokenError, match=reason):
        verifier.verify_sync(make_token())


def test_clock_skew_within_the_leeway_is_tolerated() -> None:
    verifier = TokenVerifier(settings(auth_public_key=pem(RSA_KEY), auth_leeway_seconds=120))

    principal = verifier.verify_sync(mint(kid=None, exp=int(time.time()) - 30))

    assert principal.subject == "usr-1"


def test_without_any_key_every_token_is_refused() -> None:
    with pytest.raises(InvalidTokenError, match="no key configured"):
        TokenVerifier(settings()).verify_sync(mint())


def test_an_auditor_has_a_period_a_sample_of_sites_and_no_write() -> None:
    auditor = principal_from_claims(
        claims(
            role="auditor",
            site_ids=["s1", "s2"],
            period_start="2025-01-01",
            period_end="2025-06-30",
        )
    )

    assert auditor.site_ids == {"s1", "s2"}
    assert auditor.in_period(datetime(2025, 6, 30, 23, 59, tzinfo=UTC))
    assert not auditor.in_period(datetime(2025, 7, 1, tzinfo=UTC))
    assert not auditor.in_period(datetime(2024, 12, 31, tzinfo=UTC))
    auditor.require_site("s1")
    auditor.require_site(None)  # network-wide evidence belongs to any audit
    with pytest.raises(AccessDeniedError, match="read-only"):
        auditor.require_write("s1")
    with pytest.raises(AccessDeniedError, match="not among"):
        auditor.require_site("s3")


def test_a_site_manager_reaches_only_their_sites() -> None:
    manager = principal_from_claims(claims(role="site_manager", site_ids=["s1"]))

    manager.require_write("s1")
    assert manager.site_filter() == frozenset({"s1"})
    with pytest.raises(AccessDeniedError, match="not among"):
        manager.require_write("s2")
    with pytest.raises(AccessDeniedError, match="network-wide"):
        manager.require_write(None)
    with pytest.raises(AccessDeniedError, match="not among"):
        manager.site_filter("s2")


def test_a_quality_lead_reaches_every_site_of_their_network_and_no_other() -> None:
    lead = principal_from_claims(claims())

    lead.require_network("net-a")
    lead.require_write("any-site")
    lead.require_write(None)
    assert lead.site_filter() is None
    with pytest.raises(AccessDeniedError, match="for network 'net-a', not 'net-b'"):
        lead.require_network("net-b")


def test_the_direction_reads_every_site_and_validates_plans_as_only_management_may() -> None:
    direction = principal_from_claims(claims(role="direction"))
    manager = principal_from_claims(claims(role="site_manager", site_ids=["s1"]))
    auditor = principal_from_claims(
        claims(role="auditor", site_ids=["s1"], period_start="2025-01-01", period_end="2025-12-31")
    )

    assert direction.site_filter() is None
    direction.require_write("any-site")
    assert direction.may_validate
    assert principal_from_claims(claims()).may_validate  # the quality lead too
    assert not manager.may_validate
    assert not auditor.may_validate


def test_integration_tokens_have_no_access_to_the_human_api() -> None:
    machine = principal_from_claims(claims(role="integration"))

    with pytest.raises(AccessDeniedError, match="integration"):
        machine.require_network("net-a")


def test_the_dependency_answers_401_with_a_challenge_and_403_with_the_reason() -> None:
    app = FastAPI()

    @app.get("/v1/networks/{network_id}/things")
    async def things(network_id: str, caller: Caller) -> dict[str, str]:
        caller.require_network(network_id)
        return {"subject": caller.subject}

    install_access_errors(app)
    client = TestClient(app)
    url = "/v1/networks/net-a/things"

    missing = client.get(url)
    expired = client.get(url, headers={"authorization": f"Bearer {mint(exp=1)}"})
    other = client.get("/v1/networks/net-b/things", headers={"authorization": f"Bearer {mint()}"})
    ok = client.get(url, headers={"authorization": f"Bearer {mint()}"})

    assert (missing.status_code, missing.json()["detail"]) == (401, "missing bearer token")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert (expired.status_code, expired.json()["detail"]) == (401, "token expired")
    assert other.status_code == 403
    assert "net-b" in other.json()["detail"]
    assert ok.json() == {"subject": "usr-1"}


def test_algorithms_are_restricted_to_those_configured() -> None:
    es_only = TokenVerifier(settings(auth_public_key=pem(RSA_KEY), auth_algorithms="ES256"))

    with pytest.raises(InvalidTokenError, match="'RS256' is not accepted"):
        es_only.verify_sync(mint(kid=None))
    with pytest.raises(ValueError, match="unsupported algorithms"):
        TokenVerifier(settings(auth_algorithms="RS256,HS256"))
