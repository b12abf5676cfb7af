"""In-memory stand-ins for the surveys service's ports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from boucle_contracts.registry import AnyEvent
from boucle_surveys.dispatch import MailError
from boucle_surveys.domain.mail import Mail
from boucle_surveys.domain.plan import PlanVersion
from boucle_surveys.domain.planning import Enrolment
from boucle_surveys.domain.ports import Contact
from boucle_surveys.domain.solicitation import Solicitation, Status, answer_order


class MemoryPlans:
    def __init__(self, *plans: PlanVersion) -> None:
        self.items = list(plans)

    async def versions(self, network_id: str) -> list[PlanVersion]:
        return [p for p in self.items if p.network_id == network_id]

    async def networks(self) -> list[str]:
        return sorted({p.network_id for p in self.items})

    async def add(self, plan: PlanVersion) -> bool:
        if any(p.network_id == plan.network_id and p.version == plan.version for p in self.items):
            return False
        self.items.append(plan)
        return True


class MemoryRoster:
    def __init__(self) -> None:
        self.enrolments: dict[tuple[str, str], Enrolment] = {}
        self.trainers: dict[str, set[str]] = defaultdict(set)

    async def enrol(self, network_id: str, enrolment: Enrolment) -> None:
        self.enrolments[network_id, enrolment.enrolment_id] = enrolment

    async def drop_out(self, network_id: str, enrolment_id: str) -> Enrolment | None:
        found = self.enrolments.get((network_id, enrolment_id))
        if found is None:
            return None
        left = replace(found, dropped_out=True)
        self.enrolments[network_id, enrolment_id] = left
        return left

    async def of_session(self, network_id: str, session_id: str) -> list[Enrolment]:
        return [
            e
            for (network, _), e in self.enrolments.items()
            if network == network_id and e.training.session_id == session_id
        ]

    async def people(self, network_id: str) -> dict[str, set[str]]:
        mine = [e for (n, _), e in self.enrolments.items() if n == network_id]
        return {
            "funder": {e.funder_id for e in mine if e.funder_id},
            "company": {e.company_id for e in mine if e.company_id},
            "trainer": set(self.trainers[network_id]),
        }

    async def note_trainers(self, network_id: str, trainer_ids: Sequence[str]) -> None:
        self.trainers[network_id].update(trainer_ids)


class MemorySolicitations:
    def __init__(self) -> None:
        self.items: dict[str, Solicitation] = {}
        self.pending: dict[str, list[bytes]] = {}

    async def add_new(
        self, solicitations: Sequence[Solicitation], pending: Callable[[Solicitation], bytes]
    ) -> list[Solicitation]:
        new = [s for s in solicitations if s.solicitation_id not in self.items]
        for s in new:
            self.items[s.solicitation_id] = s
            self.pending.setdefault(s.solicitation_id, []).append(pending(s))
        return new

    async def due(self, now: datetime, limit: int) -> list[Solicitation]:
        due = [s for s in self.items.values() if (at := s.next_at()) is not None and at <= now]
        return sorted(due, key=lambda s: (s.next_at(), s.solicitation_id))[:limit]

    async def save(self, solicitation: Solicitation, pending: Sequence[bytes] = ()) -> None:
        self.items[solicitation.solicitation_id] = solicitation
        if pending:
            self.pending.setdefault(solicitation.solicitation_id, []).extend(pending)

    async def published(self, solicitation_id: str) -> None:
        self.pending.pop(solicitation_id, None)

    async def unpublished(self, limit: int) -> list[tuple[str, list[bytes]]]:
        return [(k, list(v)) for k, v in self.pending.items() if v][:limit]

    async def answerable(
        self, network_id: str, survey_id: str, respondent_ref: str | None, session_id: str | None
    ) -> list[Solicitation]:
        found = [
            s
            for s in self.items.values()
            if s.network_id == network_id
            and s.survey_id == survey_id
            and (
                s.respondent_ref == respondent_ref
                if respondent_ref is not None
                else s.anonymous and s.training.session_id == session_id
            )
        ]
        return answer_order(found, session_id)

    async def of_network(self, network_id: str) -> list[Solicitation]:
        return [s for s in self.items.values() if s.network_id == network_id]

    def with_status(self, status: Status) -> list[Solicitation]:
        return [s for s in self.items.values() if s.status is status]


class MemoryDeliveries:
    def __init__(self) -> None:
        self.claims: dict[str, datetime] = {}

    async def claim(self, key: str, at: datetime) -> bool:
        if key in self.claims:
            return False
        self.claims[key] = at
        return True

    async def release(self, key: str) -> None:
        self.claims.pop(key, None)


class MemoryContacts:
    def __init__(self, contacts: dict[str, Contact] | None = None) -> None:
        self.items: dict[tuple[str, str], Contact] = {}
        for ref, contact in (contacts or {}).items():
            self.items["net-demo", ref] = contact

    async def address_of(self, network_id: str, person_ref: str) -> Contact | None:
        return self.items.get((network_id, person_ref))

    async def put(self, network_id: str, person_ref: str, contact: Contact) -> None:
        self.items[network_id, person_ref] = contact

    async def opt_out(self, network_id: str, person_ref: str) -> None:
        found = self.items.get((network_id, person_ref))
        if found is not None:
            self.items[network_id, person_ref] = replace(found, opted_out=True)

    async def erase(self, network_id: str, person_ref: str) -> bool:
        return self.items.pop((network_id, person_ref), None) is not None


class MemoryNames:
    def __init__(self, names: dict[tuple[str, str], str] | None = None) -> None:
        self.items = dict(names or {})

    async def name_of(self, network_id: str, kind: str, entity_id: str) -> str | None:
        return self.items.get((kind, entity_id))

    async def remember(self, network_id: str, kind: str, entity_id: str, name: str) -> None:
        self.items[kind, entity_id] = name


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.refuse = False

    async def send(self, mail: Mail) -> None:
        if self.refuse:
            raise MailError("refused")
        self.sent.append(mail)


class MemorySink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)
