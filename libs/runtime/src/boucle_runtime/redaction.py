"""Personal data and credentials found *inside* text: e-mail addresses, French phone numbers,
bearer tokens and JWTs, replaced wherever free text leaves the process (log lines, error
messages, dead-letter headers).

Masking by key (``email=…``) misses what hides in a value: an exception message that quotes
the payload (``input_value='jeanne@exemple.fr'``), a URL with a token, an upstream error
body. This module finds them by shape. It does not find person names (that needs a model).
"""

from __future__ import annotations

import re

MASK = "[masked]"

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# French numbers: +33 / 0033 / 0 then nine digits, in pairs separated by spaces, dots or
# dashes or not at all: "+33 6 12 34 56 78", "+33 (0)6…", "06.12.34.56.78", "0612345678".
_PHONE = r"(?<![\w+])(?:(?:\+|00)33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\w)"
# A JWT: three base64url parts, the first an encoded JSON header ('{"' is 'eyJ').
_JWT = r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
_BEARER = r"(?i:\bbearer)\s+[A-Za-z0-9._~+/=-]+"

_PATTERN = re.compile(f"(?P<bearer>{_BEARER})|(?P<jwt>{_JWT})|{_EMAIL}|{_PHONE}")


def _replace(match: re.Match[str]) -> str:
    if match.lastgroup == "bearer":
        return f"Bearer {MASK}"
    return MASK


def mask_text(text: str) -> str:
    """``text`` with every e-mail address, French phone number, bearer token and JWT masked."""
    return _PATTERN.sub(_replace, text)
