"""Personal data: keyed pseudonyms for identities, redaction of contacts inside free text.

Pure Python. A pseudonym is an HMAC-SHA256 of the normalised identity (trimmed,
lower-cased, inner whitespace collapsed) with a secret the collector alone holds: the same
learner gets the same reference across surveys, yet nobody without the secret can test a
guessed name or email against it (a plain hash could be reversed by trying addresses).
"""

from __future__ import annotations

import hashlib
import hmac
import re

# Addresses: the usual local@domain.tld, accents allowed in the local part (prénom.nom@…).
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}", re.UNICODE)
# French numbers: 06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6 12 34 56 78,
# +33 (0)6 12 34 56 78, 0033 6 12 34 56 78; and other international numbers (+44 20 …).
PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:(?:\+|00)33[\s.-]?(?:\(0\)[\s.-]?)?[1-9](?:[\s.-]?\d{2}){4}"
    r"|0[1-9](?:[\s.-]?\d{2}){4}"
    r"|\+(?:[1-9]\d{0,2})(?:[\s.-]?\(?\d{1,4}\)?){2,5})"
    r"(?!\w)"
)
EMAIL_MASK = "[email masqué]"
PHONE_MASK = "[téléphone masqué]"


def redact(text: str) -> str:
    """The text with every email address and phone number replaced by a mask."""
    return PHONE.sub(PHONE_MASK, EMAIL.sub(EMAIL_MASK, text))


def _normalised(identity: str) -> str:
    return " ".join(identity.split()).casefold()


class Pseudonymiser:
    """Keyed pseudonyms: ``p-`` and 32 hex digits of HMAC-SHA256(secret, identity)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonymisation secret must have at least 16 bytes")
        self._secret = secret

    def pseudonym(self, identity: str) -> str:
        digest = hmac.new(self._secret, _normalised(identity).encode(), hashlib.sha256)
        return f"p-{digest.hexdigest()[:32]}"
