"""A refused token gets a uniform 401: a fixed challenge, nothing of the token in a header."""

from __future__ import annotations

import base64
import json
from typing import Annotated

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from boucle_runtime.auth import (
    CHALLENGE_INVALID,
    CHALLENGE_MISSING,
    AuthSettings,
    Principal,
    TokenVerifier,
    principal_dependency,
)

pytestmark = pytest.mark.unit

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _part(document: dict[str, object]) -> str:
    raw = json.dumps(document, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged(alg: str) -> str:
    """A token whose header names ``alg`` (the signature does not matter: never checked)."""
    header = _part({"alg": alg, "typ": "JWT"})
    return f"{header}.{_part({'sub': 'x', 'network_id': 'n', 'role': 'quality_lead'})}.c2ln"


Caller = Annotated[
    Principal, Depends(principal_dependency(TokenVerifier(AuthSettings(auth_public_key=PEM))))
]


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()

    @app.get("/v1/me")
    async def me(caller: Caller) -> dict[str, str]:
        return {"subject": caller.subject}

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "alg",
    ["RS256€", "🔑", 'RS256", error_uri="https://evil.example', "none", "HS256", "XX999"],
    ids=["non-latin-1", "emoji", "header-injection", "none", "hs256", "unknown"],
)
def test_an_unaccepted_algorithm_is_a_uniform_401_never_echoed(
    client: TestClient, alg: str
) -> None:
    response = client.get("/v1/me", headers={"authorization": f"Bearer {forged(alg)}"})

    assert response.status_code == 401, "a non-Latin-1 alg was an unauthenticated 500"
    assert response.headers["www-authenticate"] == CHALLENGE_INVALID
    assert response.json() == {"detail": "the token's algorithm is not accepted"}
    assert alg not in response.text


def test_every_refusal_carries_the_same_fixed_challenge(client: TestClient) -> None:
    garbage = client.get("/v1/me", headers={"authorization": "Bearer not-a-jwt"})
    missing = client.get("/v1/me")

    assert garbage.status_code == missing.status_code == 401
    assert garbage.headers["www-authenticate"] == CHALLENGE_INVALID
    assert missing.headers["www-authenticate"] == CHALLENGE_MISSING
    assert CHALLENGE_INVALID == 'Bearer realm="boucle", error="invalid_token"'
