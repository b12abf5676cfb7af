"""Token-verification settings read from the environment (compose passes empty variables)."""

from __future__ import annotations

import pytest

from boucle_runtime.auth import AuthSettings

pytestmark = pytest.mark.unit


class _Settings(AuthSettings):
    model_config = AuthSettings.model_config | {"env_prefix": "BOUCLE_TEST_"}


def test_empty_key_variables_mean_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUCLE_TEST_AUTH_JWKS_URL", "")
    monkeypatch.setenv("BOUCLE_TEST_AUTH_PUBLIC_KEY", "  ")
    settings = _Settings()
    assert settings.auth_jwks_url is None
    assert settings.auth_public_key is None


def test_a_configured_jwks_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUCLE_TEST_AUTH_JWKS_URL", "https://login.example.org/certs")
    assert _Settings().auth_jwks_url == "https://login.example.org/certs"
