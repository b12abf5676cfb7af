"""Contact details: kept only where sending needs them, encrypted at rest (Fernet, key from
the environment), addressed by the person's pseudonym, erased with the person.

The store never holds an address in clear, so a copy of the database (a backup, a
dump) does not give the addresses away without the key.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pymongo import AsyncMongoClient

from boucle_runtime.logging import get_logger
from boucle_surveys.domain.ports import Contact

log = get_logger(__name__)


class EncryptedContacts:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str, key: str) -> None:
        self._contacts = client[database]["contacts"]
        self._key = key

    @property
    def _fernet(self) -> Fernet:
        if not self._key:  # the service refuses to start without it (app.py)
            raise RuntimeError("no contacts key configured")
        return Fernet(self._key.encode())

    async def address_of(self, network_id: str, person_ref: str) -> Contact | None:
        found = await self._contacts.find_one({"_id": f"{network_id}:{person_ref}"})
        if found is None:
            return None
        if found.get("opted_out") and not found.get("address"):
            return Contact(address="", opted_out=True)
        try:
            address = self._fernet.decrypt(bytes(found["address"])).decode()
        except InvalidToken:
            log.error("contact_undecipherable", reason="key changed or data altered")
            return None
        return Contact(address, found.get("language", "fr"), bool(found.get("opted_out")))

    async def put(self, network_id: str, person_ref: str, contact: Contact) -> None:
        """Stores or replaces an address; an opt-out already recorded stays."""
        await self._contacts.update_one(
            {"_id": f"{network_id}:{person_ref}"},
            {
                "$set": {
                    "network_id": network_id,
                    "address": self._fernet.encrypt(contact.address.encode()),
                    "language": contact.language,
                },
                "$setOnInsert": {"opted_out": False},
            },
            upsert=True,
        )

    async def opt_out(self, network_id: str, person_ref: str) -> None:
        await self._contacts.update_one(
            {"_id": f"{network_id}:{person_ref}"},
            {"$set": {"network_id": network_id, "opted_out": True}},
            upsert=True,
        )

    async def erase(self, network_id: str, person_ref: str) -> bool:
        result = await self._contacts.delete_one({"_id": f"{network_id}:{person_ref}"})
        return result.deleted_count > 0
