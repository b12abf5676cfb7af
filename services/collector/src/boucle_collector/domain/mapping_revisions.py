"""Form mappings managed through the API: validated like the file's, versioned by revision.

Pure Python. A mapping written through the API is checked with the very validation of the
integrations file (:class:`~boucle_collector.domain.integrations.FormMapping` and the
integration's own rules, e.g. its site must be among the integration's sites), and stored
with a ``revision`` that each write increments: a writer names the revision it read, and a
stale write is refused (optimistic concurrency, one document per mapping, no transaction).
The effective mapping of a form is the API-managed one if any, else the file's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from boucle_collector.domain.integrations import FormMapping, Integration

MappingKey = tuple[str, str, str]  # network, integration, form


@dataclass(frozen=True, slots=True)
class StoredMapping:
    network_id: str
    integration_id: str
    form_id: str
    mapping: FormMapping
    revision: int
    updated_at: datetime
    updated_by: str

    @property
    def key(self) -> MappingKey:
        return (self.network_id, self.integration_id, self.form_id)


class StaleRevisionError(Exception):
    """The write named a revision that is no longer the stored one (``current``: None = absent)."""

    def __init__(self, *, expected: int | None, current: int | None) -> None:
        self.expected = expected
        self.current = current
        wanted = "no mapping yet" if expected is None else f"revision {expected}"
        found = "none" if current is None else f"revision {current}"
        super().__init__(f"stale write: expected {wanted}, the stored mapping is at {found}")


class InvalidMappingError(ValueError):
    """The mapping breaks a rule; ``errors`` are (location in the mapping, message) pairs."""

    def __init__(self, errors: Sequence[tuple[tuple[int | str, ...], str]]) -> None:
        self.errors = tuple(errors)
        super().__init__(
            "; ".join(f"{'.'.join(map(str, loc)) or '(mapping)'}: {msg}" for loc, msg in errors)
        )


def checked_mapping(
    integration: Integration, form_id: str, mapping: FormMapping | Mapping[str, Any]
) -> FormMapping:
    """``mapping`` validated as the integrations file validates a form of ``integration``."""
    document = mapping.model_dump() if isinstance(mapping, FormMapping) else mapping
    candidate = {**integration.model_dump(), "forms": {form_id: document}}
    try:
        validated = Integration.model_validate(candidate)
    except ValidationError as exc:
        errors: list[tuple[tuple[int | str, ...], str]] = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            inside = loc[2:] if loc[:2] == ("forms", form_id) else ()
            errors.append((inside, str(error["msg"]).removeprefix("Value error, ")))
        raise InvalidMappingError(errors) from exc
    return validated.forms[form_id]


def managed_forms(
    stored: Sequence[StoredMapping],
) -> dict[tuple[str, str], dict[str, FormMapping]]:
    """API-managed mappings by (network, integration), as :meth:`Tenancy.with_forms` takes."""
    forms: dict[tuple[str, str], dict[str, FormMapping]] = {}
    for item in stored:
        forms.setdefault((item.network_id, item.integration_id), {})[item.form_id] = item.mapping
    return forms
