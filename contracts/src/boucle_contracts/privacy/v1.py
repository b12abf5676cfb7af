"""Privacy family, major version 1: a data subject's right to erasure (GDPR article 17).

The collector takes the request (``POST /v1/networks/{network_id}/privacy/erasures``) and
publishes one event; the analyzer, actions and the reporter each erase what they hold of
that subject and keep a receipt. The event names the subject by their pseudonym only (the
``respondent_ref``, ``learner_ref`` or ``complainant_ref`` their events carried), never by
name or address: the topic is read by every service and kept as long as the input topics,
so that a consumer replaying them meets the erasure too.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar, Literal

from pydantic import Field

from boucle_contracts.common import ContractModel, Identifier, Timestamp
from boucle_contracts.envelope import Envelope, data_schema, event_type

FAMILY = "privacy"
TOPIC = "boucle.privacy.v1"


class SubjectErasureRequested(ContractModel):
    """Erase everything kept about one data subject of one network (the envelope's)."""

    EVENT_NAME: ClassVar[str] = "subject_erasure_requested"

    request_id: Identifier = Field(description="The request's id; receipts name it.")
    subject_ref: Identifier = Field(
        description="Pseudonym of the data subject, as their events carried it "
        "(respondent_ref, learner_ref, complainant_ref). Never a name or an address."
    )
    requested_at: Timestamp = Field(
        description="When the request was taken: data about the subject from events of "
        "this time or earlier is erased, even when such an event arrives afterwards."
    )
    requested_by: Identifier | None = Field(
        default=None, description="Who took the request (the integration or staff id)."
    )


class SubjectErasureRequestedV1(Envelope[SubjectErasureRequested]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, SubjectErasureRequested.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SubjectErasureRequested.EVENT_NAME, 1)
    type: Literal["fr.boucle.privacy.subject_erasure_requested.v1"]


EVENTS = (SubjectErasureRequestedV1,)

# The fields of input events that name a data subject by pseudonym.
SUBJECT_FIELDS = ("respondent_ref", "learner_ref", "complainant_ref")


def subject_digest(network_id: str, subject_ref: str) -> str:
    """What services keep of an erased subject, to erase late or replayed events about them
    too: SHA-256 of network and pseudonym. It does not give the pseudonym back, and the
    pseudonym only leads to a person through the collector's secret."""
    return hashlib.sha256(f"{network_id}\x00{subject_ref}".encode()).hexdigest()
