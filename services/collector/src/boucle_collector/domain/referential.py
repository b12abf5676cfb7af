"""A network's referential of names: the document a network sends, and its events. Pure Python.

A referential lists the names people read in place of ids: sites ("Lyon Part-Dieu"),
programmes ("Gestion de projet") and the people the documents name (trainers, owners of
measures, the direction), with their role and job title. Each entry becomes one event of
``boucle.referential.v1`` whose id derives from the entry's content: sending the same
referential again publishes nothing new, and a renamed entry is a new event (the latest per
id wins downstream). An entry left out of a later document is not removed: v1 has no
"unnamed" event, a name stays until it is replaced.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from boucle_collector.domain.intake import Intake, IntakeKind, event_id_for
from boucle_contracts.common import ContractModel
from boucle_contracts.envelope import Envelope
from boucle_contracts.referential.v1 import (
    PersonNamed,
    PersonNamedV1,
    ProgrammeNamed,
    ProgrammeNamedV1,
    SiteNamed,
    SiteNamedV1,
)

NameT = TypeVar("NameT", bound=ContractModel)
CHANNEL = "referential"


class ReferentialDocument(BaseModel):
    """What ``PUT /v1/networks/{network_id}/referential`` takes: every list may be empty."""

    model_config = ConfigDict(extra="forbid")

    sites: list[SiteNamed] = Field(default_factory=list)
    programmes: list[ProgrammeNamed] = Field(default_factory=list)
    people: list[PersonNamed] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_entry_per_id(self) -> ReferentialDocument:
        # Two names for one id in one document: which one wins would depend on the order of
        # publication, so the sender must choose.
        for label, ids in (
            ("sites", [s.site_id for s in self.sites]),
            ("programmes", [p.programme_id for p in self.programmes]),
            ("people", [p.person_id for p in self.people]),
        ):
            twice = sorted(i for i, n in Counter(ids).items() if n > 1)
            if twice:
                raise ValueError(f"{label}: ids given more than once: {', '.join(twice)}")
        return self

    @property
    def size(self) -> int:
        return len(self.sites) + len(self.programmes) + len(self.people)

    def entries(self) -> list[tuple[IntakeKind[Any], ContractModel]]:
        """Each entry with the kind that makes it an event: sites first, then the rest."""
        return [
            *((SITE_NAMED, s) for s in self.sites),
            *((PROGRAMME_NAMED, p) for p in self.programmes),
            *((PERSON_NAMED, p) for p in self.people),
        ]


@dataclass(frozen=True)
class NameKind(IntakeKind[NameT]):
    """A referential entry as an event: keyed by its site for sites, by the network else; its
    id derived from its whole content, so a renamed entry is a new event."""

    site_of: bool = False  # whether the entry's own id is the site its event belongs to

    def envelope(self, data: NameT, *, intake: Intake) -> Envelope[NameT]:
        content = data.model_dump_json(exclude_none=True)
        return self.event_class.create(
            data=data,
            network_id=intake.network_id,
            site_id=self.natural_id(data) if self.site_of else None,
            source=f"/collector/{CHANNEL}",
            event_id=event_id_for(
                network_id=intake.network_id,
                site_id="",
                event_type=self.event_class.EVENT_TYPE,
                natural_id=content,
            ),
            subject=self.subject(data),
        )


SITE_NAMED = NameKind[SiteNamed](
    SiteNamedV1, lambda d: d.site_id, lambda d: f"site/{d.site_id}", site_of=True
)
PROGRAMME_NAMED = NameKind[ProgrammeNamed](
    ProgrammeNamedV1, lambda d: d.programme_id, lambda d: f"programme/{d.programme_id}"
)
PERSON_NAMED = NameKind[PersonNamed](
    PersonNamedV1, lambda d: d.person_id, lambda d: f"person/{d.person_id}"
)
NAME_KINDS: tuple[NameKind[Any], ...] = (SITE_NAMED, PROGRAMME_NAMED, PERSON_NAMED)
