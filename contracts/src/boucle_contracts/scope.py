"""The scope an analysis, a degradation or an action is about."""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator

from boucle_contracts.common import ContractModel, DimensionSlug, Identifier, RespondentRole


class ScopeLevel(StrEnum):
    NETWORK = "network"
    SITE = "site"
    PROGRAMME = "programme"
    TRAINER = "trainer"


class Scope(ContractModel):
    """network ⊃ site ⊃ programme; a trainer scope may span sites (site_id then absent)."""

    level: ScopeLevel
    network_id: Identifier
    site_id: Identifier | None = None
    programme_id: Identifier | None = None
    trainer_id: Identifier | None = None
    respondent_role: RespondentRole | None = None
    dimension: DimensionSlug | None = None

    @model_validator(mode="after")
    def _ids_match_level(self) -> Scope:
        required = {
            ScopeLevel.NETWORK: (),
            ScopeLevel.SITE: ("site_id",),
            ScopeLevel.PROGRAMME: ("programme_id",),
            ScopeLevel.TRAINER: ("trainer_id",),
        }[self.level]
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.level.value} scope needs {', '.join(missing)}")
        return self

    def key(self) -> str:
        """Stable text key, e.g. ``net-1/site:lyon/dimension:platform``."""
        parts = [self.network_id, f"level:{self.level.value}"]
        for name in ("site_id", "programme_id", "trainer_id", "respondent_role", "dimension"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name.removesuffix('_id')}:{value}")
        return "/".join(parts)
