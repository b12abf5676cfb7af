"""Signed unsubscribe links: whoever holds the link may stop that kind of e-mail for that
address, nobody can forge one for another address (HMAC with the session secret)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode


def signature(secret: str, address: str, kind: str) -> str:
    key = hashlib.sha256(f"unsubscribe:{secret}".encode()).digest()
    message = f"{address.lower()}\n{kind}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def valid(secret: str, address: str, kind: str, given: str) -> bool:
    return hmac.compare_digest(signature(secret, address, kind), given)


def unsubscribe_url(base_url: str, secret: str, address: str, kind: str) -> str:
    query = urlencode({"a": address, "k": kind, "s": signature(secret, address, kind)})
    return f"{base_url.rstrip('/')}/notifications/unsubscribe?{query}"
