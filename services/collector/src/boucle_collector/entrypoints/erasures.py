"""A data subject's erasure, taken once here and carried out by every service.

``POST /v1/networks/{network_id}/privacy/erasures`` takes the person as the platforms sent
them (``identities``: an e-mail address, a platform respondent id; pseudonymised here with
the secret the collector alone holds, exactly as at intake) or as pseudonyms
(``subject_refs``: what a client of the native API sent as ``respondent_ref``,
``learner_ref``, ``complainant_ref``). Each pseudonym becomes one
``SubjectErasureRequestedV1`` on ``boucle.privacy.v1``; the analyzer, actions and the
reporter each erase what they hold and keep a receipt. Neither identities nor pseudonyms
are logged; the identities are not kept anywhere.

Only a key of the network's administration integration (``manage_mappings``) may ask:
an erasure is irreversible, and a survey platform's key has no business asking for one.
"""

# No ``from __future__ import annotations``: FastAPI must see the dependency of a route
# defined inside a function (``administrator``), not a name it cannot resolve.
import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, ValidationError, model_validator

from boucle_collector.domain.identifiers import looks_like_email
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.entrypoints.errors import OUTCOME_UNKNOWN
from boucle_collector.entrypoints.gate import API_KEY_HEADER, BEARER, Gate
from boucle_collector.entrypoints.path_params import NetworkId
from boucle_contracts.common import Identifier
from boucle_contracts.privacy.v1 import SubjectErasureRequested, SubjectErasureRequestedV1
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
CHANNEL = "privacy"
MAX_SUBJECTS = 20
ERASURE_NAMESPACE = uuid.UUID("0b6f3d2a-7c41-5e98-a1d4-6e2f8c9b3a70")
PUBLISH_TIMEOUT_SECONDS = 10.0


class ErasureRequest(BaseModel):
    """Who to erase: identities as the platforms sent them, and/or pseudonyms."""

    identities: list[Annotated[str, Field(min_length=1, max_length=320)]] = Field(
        default=[],
        max_length=MAX_SUBJECTS,
        description="E-mail addresses or platform respondent ids of the person, as survey "
        "platforms sent them; pseudonymised here, never stored nor published.",
    )
    subject_refs: list[Identifier] = Field(
        default=[],
        max_length=MAX_SUBJECTS,
        description="Pseudonyms of the person, as sent in respondent_ref, learner_ref or "
        "complainant_ref.",
    )
    request_id: Identifier | None = Field(
        default=None,
        description="Your reference of the request; the same one again publishes the same "
        "events (a retry after a 503 is safe). Generated when absent.",
    )

    @model_validator(mode="after")
    def _someone(self) -> "ErasureRequest":
        if not self.identities and not self.subject_refs:
            raise ValueError("give identities or subject_refs: who is to be erased")
        if any(looks_like_email(ref) for ref in self.subject_refs):
            raise ValueError("an e-mail address is not a pseudonym: send it in identities")
        return self


class ErasureAccepted(BaseModel):
    request_id: str
    event_ids: list[str] = Field(description="One erasure request event per pseudonym.")
    subjects: int = Field(description="How many pseudonyms are being erased.")
    status: str = "accepted"


def _event(
    network_id: str, request_id: str, subject: str, by: str | None, now: datetime
) -> SubjectErasureRequestedV1:
    return SubjectErasureRequestedV1.create(
        data=SubjectErasureRequested(
            request_id=request_id, subject_ref=subject, requested_at=now, requested_by=by
        ),
        network_id=network_id,
        source="/collector/privacy/erasures",
        subject=f"erasure/{request_id}",
        event_id=str(uuid.uuid5(ERASURE_NAMESPACE, f"{network_id}\x00{request_id}\x00{subject}")),
    )


async def _request_of(request: Request) -> ErasureRequest:
    """The body, validated; a refusal names the fields and never echoes the values (an
    identity is personal data: it must not come back in an answer, nor reach a log)."""
    try:
        return ErasureRequest.model_validate_json(await request.body())
    except ValidationError as invalid:
        errors = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in invalid.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise HTTPException(422, errors) from None


def erasure_router(
    gate: Gate, publisher: EventSink, pseudonymiser: Pseudonymiser | None
) -> APIRouter:
    router = APIRouter(prefix="/v1/networks/{network_id}/privacy", tags=["privacy"])

    def administrator(
        request: Request,
        api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    ) -> str:
        """The integration asking, if it administers the path's network; else 401/403."""
        network_id = str(request.path_params.get("network_id", ""))
        if gate.integrations.open:
            gate.refuse(403, "forbidden", CHANNEL, "erasure needs an integrations file")
        caller = gate.authenticate(api_key or (bearer.credentials if bearer else None), CHANNEL)
        own = caller.integration
        if not own.manage_mappings or own.network_id != network_id:
            gate.refuse(
                403,
                "forbidden",
                CHANNEL,
                f"API key {caller.key_id} of integration {own.id} may not request erasures in "
                f"network {network_id} (needs the administration integration, manage_mappings)",
            )
        gate.throttle(caller.principal, CHANNEL)
        return own.id

    @router.post(
        "/erasures",
        status_code=status.HTTP_202_ACCEPTED,
        name="request_erasure",
        description="Erase a data subject everywhere Boucle keeps data about them "
        "(GDPR article 17); see docs/privacy-register.md.",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ErasureRequest.model_json_schema()}},
            }
        },
        responses={
            401: {"description": "No API key, or an unknown one."},
            403: {"description": "Not the network's administration key."},
            422: {"description": "Nobody named, or identities without a pseudonymisation secret."},
            503: {"description": "Kafka did not confirm: outcome unknown, retrying is safe."},
        },
    )
    async def request_erasure(
        network_id: NetworkId, request: Request, by: Annotated[str, Depends(administrator)]
    ) -> ErasureAccepted:
        body = await _request_of(request)
        if body.identities and pseudonymiser is None:
            raise HTTPException(
                422,
                "this collector has no pseudonymisation secret: respondents' identities were "
                "dropped at intake, not pseudonymised; send subject_refs",
            )
        subjects = set(body.subject_refs)
        if pseudonymiser is not None:
            subjects |= {pseudonymiser.pseudonym(identity) for identity in body.identities}
        request_id = body.request_id or f"era-{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        events = [_event(network_id, request_id, s, by, now) for s in sorted(subjects)]
        try:
            for event in events:
                await asyncio.wait_for(publisher.publish(event), PUBLISH_TIMEOUT_SECONDS)
        except Exception as exc:  # broker down or slow: nothing said is known to be false
            log.warning("erasure_request_unconfirmed", error=type(exc).__name__)
            raise HTTPException(503, OUTCOME_UNKNOWN, headers={"Retry-After": "5"}) from None
        log.info(
            "erasure_requested", network_id=network_id, request_id=request_id, subjects=len(events)
        )
        return ErasureAccepted(
            request_id=request_id, event_ids=[e.id for e in events], subjects=len(events)
        )

    return router
