"""The evidence log's public keys and a data subject's erasure, over HTTP.

Public keys: any caller of the network (auditors check dossiers with them). Erasure: the
network's administrator (quality lead) only, through the ``admin`` dependency.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, params
from pydantic import BaseModel, Field

from boucle_reporter.access import AccessDependency, AdminDependency, Narrow, RequireAdmin
from boucle_reporter.adapters.ed25519 import ALGORITHM
from boucle_reporter.api import ID_PATTERN, NetworkId, network_wide
from boucle_reporter.erase import SubjectEraser
from boucle_reporter.signing import KeyRing


class ErasureBody(BaseModel):
    subject: str = Field(
        pattern=ID_PATTERN, description="Pseudonym of the data subject (respondent, learner)."
    )


class ErasureReport(BaseModel):
    network_id: str
    erased_at: datetime
    entries_erased: int = Field(description="Evidence bodies erased (the chain still verifies).")
    entries_kept_version_1: int = Field(
        description="Entries from before erasable links (v1): their body is their link."
    )
    complaints_anonymised: int
    read_model_documents_anonymised: int


class PublicKey(BaseModel):
    key_id: str
    algorithm: str
    pem: str
    current: bool = Field(description="Signs the heads and reports made from now on.")


class PublicKeys(BaseModel):
    signing: bool = Field(description="False: no signing key configured, heads are unsigned.")
    keys: list[PublicKey]


def evidence_router(
    *,
    access: AccessDependency,
    admin: AdminDependency,
    keys: KeyRing,
    eraser: SubjectEraser,
    dependencies: Sequence[params.Depends] = (),
) -> APIRouter:
    router = APIRouter(
        prefix="/v1/networks/{network_id}/evidence",
        tags=["evidence"],
        dependencies=list(dependencies),
    )

    @router.get("/public-keys")
    async def evidence_public_keys(
        network_id: NetworkId, narrow: Annotated[Narrow, Depends(access)]
    ) -> PublicKeys:
        """Public keys verifying signed chain heads and verification reports (by key id):
        the current one and those retired, so dossiers signed before a rotation verify."""
        narrow(network_wide(network_id))
        current = keys.signer.key_id if keys.signer else None
        return PublicKeys(
            signing=keys.signer is not None,
            keys=[
                PublicKey(key_id=kid, algorithm=ALGORITHM, pem=pem, current=kid == current)
                for kid, pem in sorted(keys.public.pems().items())
            ],
        )

    @router.post("/erasures")
    async def erase_subject(
        network_id: NetworkId,
        require_admin: Annotated[RequireAdmin, Depends(admin)],
        body: ErasureBody,
    ) -> ErasureReport:
        """Erase a data subject (quality lead only): the body of every evidence entry about
        them, their pseudonym, and the person fields of their complaints. The chain still
        verifies; the pseudonym is neither logged nor returned."""
        require_admin(network_id)
        return ErasureReport(**await eraser(network_id=network_id, subject=body.subject))

    return router
