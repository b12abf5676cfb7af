"""Ed25519 keys for signing chain heads and verification reports (``cryptography``).

The key id is the first 16 hex digits of SHA-256 of the raw public key: derived, never
configured, so a signature always names the key that made it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class SigningKeyError(ValueError):
    """A configured key is not an Ed25519 key in PEM."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def generate_private_pem() -> str:
    """A new private key, PKCS#8 PEM (local stack, tests, first set-up)."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )


class Ed25519Signer:
    algorithm = ALGORITHM

    def __init__(self, private_pem: str) -> None:
        try:
            key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        except (ValueError, TypeError) as error:
            reason = f"the evidence signing key is not a PEM private key: {error}"
            raise SigningKeyError(reason) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the evidence signing key must be an Ed25519 key")
        self._key = key
        self.public_key = key.public_key()
        self._key_id = key_id(self.public_key)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def public_pem(self) -> str:
        return public_pem(self.public_key)

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode("ascii")


class PublicKeys:
    """Public keys by key id: the current one and those retired, for old dossiers."""

    def __init__(self, keys: Iterable[Ed25519PublicKey] = ()) -> None:
        self.keys = {key_id(k): k for k in keys}

    @classmethod
    def from_pem(cls, text: str) -> PublicKeys:
        """Every public key PEM block in ``text`` (one file may hold several)."""
        keys = []
        for block in PEM_BLOCK.findall(text):
            key = serialization.load_pem_public_key(block.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise SigningKeyError("only Ed25519 public keys verify evidence signatures")
            keys.append(key)
        return cls(keys)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> PublicKeys:
        keys = cls()
        for path in paths:
            keys.keys |= cls.from_pem(path.read_text(encoding="ascii")).keys
        return keys

    def pems(self) -> dict[str, str]:
        return {kid: public_pem(key) for kid, key in self.keys.items()}

    def check(self, key_id: str, payload: bytes, signature: str) -> bool | None:
        key = self.keys.get(key_id)
        if key is None:
            return None
        try:
            key.verify(base64.b64decode(signature, validate=True), payload)
        except (InvalidSignature, ValueError):
            return False
        return True
