"""A person's erasure in the surveys service: their contact details are deleted and their
solicitations kept without their pseudonym (response rates stay true)."""

from __future__ import annotations

from typing import Protocol

from boucle_runtime.logging import get_logger
from boucle_surveys.domain.ports import ContactBook

log = get_logger(__name__)


class SubjectSolicitations(Protocol):
    async def erase_subject(self, network_id: str, respondent_ref: str) -> int: ...


class Erasure:
    def __init__(self, *, contacts: ContactBook, solicitations: SubjectSolicitations) -> None:
        self._contacts = contacts
        self._solicitations = solicitations

    async def erase(self, network_id: str, subject_ref: str) -> None:
        contact = await self._contacts.erase(network_id, subject_ref)
        count = await self._solicitations.erase_subject(network_id, subject_ref)
        log.info("subject_erased", network_id=network_id, contact=contact, solicitations=count)
