"""Opt-out links: signed so that nobody can unsubscribe someone else, confirmed by a
button (mail scanners open links; only a person presses the button)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote


class OptOutLinks:
    def __init__(self, *, public_url: str, secret: bytes) -> None:
        self._base = public_url.rstrip("/")
        self._secret = secret

    def token(self, network_id: str, person_ref: str) -> str:
        message = f"{network_id}\x1f{person_ref}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def valid(self, network_id: str, person_ref: str, token: str) -> bool:
        return hmac.compare_digest(self.token(network_id, person_ref), token)

    def link(self, network_id: str, person_ref: str) -> str:
        return (
            f"{self._base}/desinscription/{quote(network_id, safe='')}/"
            f"{quote(person_ref, safe='')}?t={self.token(network_id, person_ref)}"
        )
