"""Referential family, major version 1: what a network calls its sites, programmes and people.

Every other event names things by id (``lyon-part-dieu``, ``prog-gestion-projet``,
``fmt-0042``); what a person reads (the report, the tracking table, the dashboard) shows
their names. The collector publishes one event per entry of the referential a network sends
(``PUT /v1/networks/{network_id}/referential``, or a TMS feed), with an id derived from the
entry's content: the same entry sent again is the same event, a renamed one a new event. The
latest event of an id wins. The network is the envelope's ``networkid``; a site's events
carry its ``siteid`` too, so they are keyed like the site's other events.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from boucle_contracts.common import ContractModel, Identifier
from boucle_contracts.envelope import Envelope, data_schema, event_type

FAMILY = "referential"
TOPIC = "boucle.referential.v1"

# What a person reads: one line, no control characters, not blank.
DisplayName = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=200, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
# A person's role in the network, configuration rather than an enum (networks add their own).
RoleSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class SiteNamed(ContractModel):
    """A site (agence, centre) and the name people know it by."""

    EVENT_NAME: ClassVar[str] = "site_named"

    site_id: Identifier = Field(description="The site's id, as in every other event's siteid.")
    name: DisplayName = Field(description='What people call it, e.g. "Lyon Part-Dieu".')


class ProgrammeNamed(ContractModel):
    """A programme (action de formation) and its title."""

    EVENT_NAME: ClassVar[str] = "programme_named"

    programme_id: Identifier = Field(description="As in TrainingRef.programme_id.")
    name: DisplayName = Field(description='Its title, e.g. "Gestion de projet".')


class PersonNamed(ContractModel):
    """Someone the documents name: a trainer, the owner of a measure, a member of the direction."""

    EVENT_NAME: ClassVar[str] = "person_named"

    person_id: Identifier = Field(
        description="As in TrainingRef.trainer_ids, an action's owner, a meeting's attendees."
    )
    name: DisplayName = Field(description='First name and surname, e.g. "Claire Martin".')
    role: RoleSlug | None = Field(
        default=None,
        description=(
            "What the person is in the network: trainer, site_manager, quality_lead, "
            "director, … (networks may add their own slugs)."
        ),
    )
    title: DisplayName | None = Field(
        default=None,
        description='Job title as the documents print it, e.g. "Responsable qualité réseau".',
    )
    site_id: Identifier | None = Field(
        default=None, description="The site the person works at, if one."
    )


class SiteNamedV1(Envelope[SiteNamed]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, SiteNamed.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, SiteNamed.EVENT_NAME, 1)
    type: Literal["fr.boucle.referential.site_named.v1"]


class ProgrammeNamedV1(Envelope[ProgrammeNamed]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, ProgrammeNamed.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, ProgrammeNamed.EVENT_NAME, 1)
    type: Literal["fr.boucle.referential.programme_named.v1"]


class PersonNamedV1(Envelope[PersonNamed]):
    EVENT_TYPE: ClassVar[str] = event_type(FAMILY, PersonNamed.EVENT_NAME, 1)
    TOPIC: ClassVar[str] = TOPIC
    DATA_SCHEMA: ClassVar[str] = data_schema(FAMILY, PersonNamed.EVENT_NAME, 1)
    type: Literal["fr.boucle.referential.person_named.v1"]


EVENTS = (SiteNamedV1, ProgrammeNamedV1, PersonNamedV1)
