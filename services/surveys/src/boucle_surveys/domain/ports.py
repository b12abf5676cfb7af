"""What the surveys service needs from the outside world, as Protocols (in-memory fakes in
tests/unit/surveys, MongoDB and SMTP adapters in ``adapters/``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from boucle_surveys.domain.mail import Mail
from boucle_surveys.domain.plan import PlanVersion
from boucle_surveys.domain.planning import Enrolment
from boucle_surveys.domain.solicitation import Solicitation


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach a person: only where sending needs it, never on a topic."""

    address: str
    language: str = "fr"
    opted_out: bool = False


class PlanStore(Protocol):
    async def versions(self, network_id: str) -> list[PlanVersion]: ...

    async def networks(self) -> list[str]: ...

    async def add(self, plan: PlanVersion) -> bool:
        """False when that version number exists already (a concurrent publication)."""
        ...


class Roster(Protocol):
    async def enrol(self, network_id: str, enrolment: Enrolment) -> None: ...

    async def drop_out(self, network_id: str, enrolment_id: str) -> Enrolment | None: ...

    async def of_session(self, network_id: str, session_id: str) -> list[Enrolment]: ...

    async def people(self, network_id: str) -> dict[str, set[str]]:
        """Funders, companies and trainers met so far, by stakeholder type (yearly rules)."""
        ...

    async def note_trainers(self, network_id: str, trainer_ids: Sequence[str]) -> None: ...


class SolicitationStore(Protocol):
    async def add_new(
        self, solicitations: Sequence[Solicitation], pending: Callable[[Solicitation], bytes]
    ) -> list[Solicitation]:
        """Stores those not known yet (by id), each with its announcement to publish, and
        returns them."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Solicitation]: ...

    async def save(self, solicitation: Solicitation, pending: Sequence[bytes] = ()) -> None:
        """Stores the new state with the events still to publish (an outbox)."""
        ...

    async def published(self, solicitation_id: str) -> None: ...

    async def unpublished(self, limit: int) -> list[tuple[str, list[bytes]]]: ...

    async def answerable(
        self, network_id: str, survey_id: str, respondent_ref: str | None, session_id: str | None
    ) -> list[Solicitation]:
        """Solicitations a response may close: its person's, or for an anonymous survey
        the session's, oldest first; answered ones included (a redelivered response)."""
        ...

    async def of_network(self, network_id: str) -> list[Solicitation]: ...


class Deliveries(Protocol):
    async def claim(self, key: str, at: datetime) -> bool:
        """True once per key, ever: the right to send that message (at most once, even
        when a crash comes between the claim and the end of sending)."""
        ...

    async def release(self, key: str) -> None:
        """Gives the claim back after a sending that certainly failed (the server refused)."""
        ...


class ContactBook(Protocol):
    async def address_of(self, network_id: str, person_ref: str) -> Contact | None: ...

    async def put(self, network_id: str, person_ref: str, contact: Contact) -> None: ...

    async def opt_out(self, network_id: str, person_ref: str) -> None: ...

    async def erase(self, network_id: str, person_ref: str) -> bool: ...


class Names(Protocol):
    async def name_of(self, network_id: str, kind: str, entity_id: str) -> str | None: ...

    async def remember(self, network_id: str, kind: str, entity_id: str, name: str) -> None: ...


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...
