"""Where a pseudonym is expected, an e-mail address is refused. Pure Python.

The contracts' ``Identifier`` admits ``@`` (platform ids such as ``user@tenant`` exist), so a
learner's address passes as ``learner_ref`` unless someone looks: this module looks. A value
is taken for an address when it has the shape ``local@domain.tld``.
"""

from __future__ import annotations

import re

EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
NOT_A_PSEUDONYM = (
    "an e-mail address is not a pseudonym: send a pseudonymous reference (for instance an "
    "HMAC of the address with a key you keep), never the address itself"
)


def looks_like_email(value: str) -> bool:
    return bool(EMAIL_LIKE.match(value.strip()))
