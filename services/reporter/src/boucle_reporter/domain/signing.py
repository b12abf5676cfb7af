"""Signed statements about the evidence chain: heads and verification reports. Pure.

The chain head lives in the same database as the chain, so whoever can rewrite the tail
can rewrite the head with it. A head (or a verification report) signed with a key the
reporter holds, and delivered in a dossier, is a commitment kept outside the database:
the offline verifier checks the signature with the public key and then that the chain
still holds that entry with that hash.

A signed document is the document's fields plus ``algorithm``, ``key_id`` (which key, so
old dossiers stay verifiable after a rotation), ``signed_at`` and ``signature`` (base64),
flat. The signature covers the canonical JSON of every field but ``signature``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from boucle_reporter.domain.chain import ChainHead, Verification, canonical_json

UNSIGNED = "no signing key configured: this head is not signed"


class Signer(Protocol):
    algorithm: str

    @property
    def key_id(self) -> str: ...

    def sign(self, payload: bytes) -> str:
        """The signature of ``payload``, base64."""
        ...


class SignatureChecker(Protocol):
    def check(self, key_id: str, payload: bytes, signature: str) -> bool | None:
        """True if valid, False if not, None if no public key has that id."""
        ...


def payload(document: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: every field but the signature itself."""
    return canonical_json({k: v for k, v in document.items() if k != "signature"}).encode()


def sign(document: Mapping[str, Any], signer: Signer, now: datetime) -> dict[str, Any]:
    """The document with its signature fields."""
    stamped = {
        **document,
        "algorithm": signer.algorithm,
        "key_id": signer.key_id,
        "signed_at": now.isoformat(),
    }
    return stamped | {"signature": signer.sign(payload(stamped))}


def signature_problem(document: Mapping[str, Any], checker: SignatureChecker) -> str | None:
    """Why a signed document cannot be trusted, or None when its signature verifies."""
    signature, key_id = document.get("signature"), document.get("key_id")
    if not isinstance(signature, str) or not isinstance(key_id, str):
        return "not signed: it could have been written by anyone"
    valid = checker.check(key_id, payload(document), signature)
    if valid is None:
        return f"signed by key {key_id}, which is not among the public keys given"
    return None if valid else "forged: its signature does not verify"


def head_document(network_id: str, head: ChainHead) -> dict[str, Any]:
    return {"network_id": network_id, "seq": head.seq, "hash": head.hash}


def signed_head(
    network_id: str, head: ChainHead, signer: Signer | None, now: datetime
) -> dict[str, Any]:
    """The head as a dossier carries it: signed, or saying plainly that it is not."""
    document = head_document(network_id, head)
    if signer is None:
        return document | {"signature": None, "unsigned": UNSIGNED}
    return sign(document, signer, now)


def signed_verification(result: Verification, signer: Signer | None) -> Verification:
    """The report with its signature fields (unchanged without a signer)."""
    if signer is None or result.verified_at is None:
        return result
    return Verification.from_report(sign(result.report(), signer, result.verified_at))
