"""The session cookie: encrypted, authenticated, bounded in time; CSRF tokens."""

from __future__ import annotations

import time

import pytest

from boucle_console.session import SessionCodec, csrf_token, csrf_valid

pytestmark = pytest.mark.unit


def test_a_session_round_trips_and_is_not_readable_in_the_cookie() -> None:
    codec = SessionCodec("s" * 40, max_age_seconds=60)
    value = codec.encode({"tokens": {"access_token": "eyJsecret"}})
    assert "eyJsecret" not in value
    assert codec.decode(value) == {"tokens": {"access_token": "eyJsecret"}}


def test_a_tampered_or_foreign_cookie_is_no_session() -> None:
    codec = SessionCodec("s" * 40, max_age_seconds=60)
    value = codec.encode({"a": 1})
    assert codec.decode(value[:-4] + "AAAA") is None
    assert SessionCodec("t" * 40, max_age_seconds=60).decode(value) is None
    assert codec.decode("not a cookie") is None


def test_an_old_session_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec("s" * 40, max_age_seconds=60)
    value = codec.encode({"a": 1})
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    assert codec.decode(value) is None


def test_csrf_token_is_drawn_once_and_checked_exactly() -> None:
    session: dict[str, object] = {}
    token = csrf_token(session)
    assert csrf_token(session) == token
    assert csrf_valid(session, token)
    assert not csrf_valid(session, token + "x")
    assert not csrf_valid(session, None)
    assert not csrf_valid({}, token)
