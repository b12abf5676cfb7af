"""The reporter's evidence signing key and public keys, from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from boucle_reporter.adapters.ed25519 import Ed25519Signer, PublicKeys
from boucle_reporter.pack import EvidenceKey
from boucle_reporter.settings import ReporterSettings


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The signing key (None: heads unsigned) and every public key still published."""

    signer: Ed25519Signer | None = None
    public: PublicKeys = field(default_factory=PublicKeys)

    @property
    def evidence_key(self) -> EvidenceKey | None:
        return EvidenceKey(self.signer, self.signer.public_pem) if self.signer else None


def signer_from(settings: ReporterSettings) -> Ed25519Signer | None:
    """The signer, or None when no key is configured (heads unsigned: a readiness gap).

    A key that is configured but unreadable is an error: starting unsigned would hide it.
    """
    pem = settings.signing_key_pem()
    return Ed25519Signer(pem) if pem else None


def key_ring(settings: ReporterSettings) -> KeyRing:
    """The current key and the retired public keys (old dossiers stay verifiable)."""
    signer = signer_from(settings)
    public = PublicKeys([signer.public_key] if signer else [])
    if settings.evidence_previous_public_keys_file is not None:
        text = settings.evidence_previous_public_keys_file.read_text(encoding="ascii")
        public.keys = PublicKeys.from_pem(text).keys | public.keys
    return KeyRing(signer, public)
