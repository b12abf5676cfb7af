"""Tenancy: who may write what, and how each platform's forms map onto the contracts.

The collector has no database: integrations come from a JSON file (see the README), loaded
at start and reloaded when it changes. This module holds the validated model and the
look-ups; reading the file and resolving secrets from the environment is an adapter's job.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from boucle_contracts.common import DimensionSlug, Identifier, RespondentRole
from boucle_contracts.feedback.v1 import SurveyKind

ALL_SITES = "*"
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Platform(StrEnum):
    API = "api"  # the native HTTP API, with API keys
    TYPEFORM = "typeform"
    TALLY = "tally"
    SURVEYMONKEY = "surveymonkey"
    FORMBRICKS = "formbricks"
    KOBOTOOLBOX = "kobotoolbox"
    JOTFORM = "jotform"
    LIMESURVEY = "limesurvey"  # pulled: RemoteControl 2 JSON-RPC, on a schedule


class FieldRole(StrEnum):
    """What a platform question carries once mapped."""

    ANSWER = "answer"  # a rated, chosen or written answer (needs answer_type)
    COMMENT = "comment"  # free expression, kept as a comment
    RESPONDENT_NAME = "respondent_name"  # identity: pseudonymised, never published
    RESPONDENT_EMAIL = "respondent_email"
    RESPONDENT_ID = "respondent_id"
    SITE_ID = "site_id"  # context, typically a hidden field of a form shared by sites
    PROGRAMME_ID = "programme_id"
    SESSION_ID = "session_id"
    TRAINER_ID = "trainer_id"
    COMPANY_ID = "company_id"
    IGNORE = "ignore"  # deliberately not kept (e.g. a consent checkbox)


IDENTITY_ROLES = frozenset({FieldRole.RESPONDENT_NAME, FieldRole.RESPONDENT_EMAIL})


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuestionMapping(_Config):
    role: FieldRole = FieldRole.ANSWER
    answer_type: Literal["scale", "nps", "choice", "text"] | None = None
    dimension: DimensionSlug | None = None
    scale_min: int = 1
    scale_max: int = 5
    label: str | None = Field(default=None, max_length=500)
    # Platform choice id or label -> label (choice) or number (scale), when the payload
    # carries ids only or labels must be translated into ratings.
    choices: dict[str, str | float] = Field(default_factory=dict)
    multiple: bool = Field(
        default=False, description="Choices arrive space-separated (KoboToolbox select_multiple)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> QuestionMapping:
        if self.role is FieldRole.ANSWER and self.answer_type is None:
            raise ValueError("answer_type (scale, nps, choice or text) is required for an answer")
        if self.role is not FieldRole.ANSWER and self.answer_type is not None:
            raise ValueError(f"answer_type only applies to answers, not to role {self.role}")
        if self.scale_max <= self.scale_min:
            raise ValueError(f"scale_max ({self.scale_max}) must exceed scale_min")
        return self


class FormMapping(_Config):
    site_id: Identifier | None = Field(
        default=None, description="Fixed site; else a question with role site_id gives it."
    )
    survey_kind: SurveyKind
    respondent_role: RespondentRole
    anonymous: bool = False
    programme_id: Identifier | None = None
    session_id: Identifier | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] = "fr"
    questions: dict[str, QuestionMapping] = Field(min_length=1)
    id_column: str = Field(default="response_id", description="File imports: response id column.")
    submitted_at_column: str = Field(
        default="submitted_at", description="File imports: submission time column."
    )

    @model_validator(mode="after")
    def _site_known(self) -> FormMapping:
        has_site_field = any(q.role is FieldRole.SITE_ID for q in self.questions.values())
        if self.site_id is None and not has_site_field:
            raise ValueError("site_id is required unless a question has role site_id")
        if self.anonymous and any(q.role in IDENTITY_ROLES for q in self.questions.values()):
            raise ValueError("an anonymous form cannot map respondent_name or respondent_email")
        return self


class ApiKey(_Config):
    id: Identifier = Field(description="Names the key in logs and metrics; never the key.")
    sha256: Sha256Hex = Field(description="Hex SHA-256 of the key; the key itself is never stored.")


class SecretRef(_Config):
    """Where a secret is read: an environment variable, or a file (re-read at each reload,
    so a mounted secret can be rotated without restarting)."""

    env: EnvName | None = Field(default=None, description="Environment variable holding it.")
    file: str | None = Field(default=None, min_length=1, description="File holding it.")

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference names exactly one of env or file")
        return self


class LimeSurveySource(_Config):
    """Where and how responses of a LimeSurvey instance are pulled (RemoteControl 2)."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] = Field(
        description="JSON-RPC endpoint, e.g. https://enquetes.example/index.php/admin/remotecontrol"
    )
    username: str = Field(min_length=1, max_length=200)
    password: SecretRef
    survey_ids: tuple[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")], ...] = Field(
        min_length=1, description="Surveys pulled; each needs a form mapping (file or API)."
    )
    timezone: str = Field(
        default="Europe/Paris", description="Zone of LimeSurvey's submit dates (stored without)."
    )

    @model_validator(mode="after")
    def _known_zone(self) -> LimeSurveySource:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        return self


class Integration(_Config):
    id: Identifier
    platform: Platform
    network_id: Identifier
    sites: tuple[Identifier | Literal["*"], ...] = Field(
        min_length=1, description='Sites it may write for; "*" = every site of the network.'
    )
    api_keys: tuple[ApiKey, ...] = ()
    secrets: tuple[SecretRef, ...] = Field(
        default=(), description="Webhook signing secrets, several while rotating."
    )
    access_token: SecretRef | None = Field(
        default=None, description="SurveyMonkey: OAuth token used to fetch response details."
    )
    limesurvey: LimeSurveySource | None = Field(
        default=None, description="LimeSurvey: the instance pulled and its surveys."
    )
    pseudonymise: bool = Field(
        default=True, description="Pseudonymise names and emails (else they are dropped)."
    )
    forms: dict[str, FormMapping] = Field(default_factory=dict)
    manage_mappings: bool = Field(
        default=False,
        description="Its API keys may manage the form mappings of every integration of its "
        "network through /v1/networks/{network}/integrations/{id}/mappings (api platform only).",
    )

    @model_validator(mode="after")
    def _complete(self) -> Integration:
        if self.manage_mappings and self.platform is not Platform.API:
            raise ValueError("manage_mappings is a permission of api integrations (API keys)")
        if (self.platform is Platform.LIMESURVEY) != (self.limesurvey is not None):
            raise ValueError("a limesurvey integration, and only it, has a limesurvey section")
        if self.platform is Platform.API:
            if not self.api_keys:
                raise ValueError("an api integration needs at least one api key")
        elif self.platform is not Platform.LIMESURVEY:  # pulled: no webhook secret
            if not self.secrets:
                raise ValueError(f"a {self.platform} integration needs at least one secret")
            if not self.forms:
                raise ValueError(f"a {self.platform} integration needs at least one form mapping")
        if self.platform is Platform.SURVEYMONKEY and self.access_token is None:
            raise ValueError("a surveymonkey integration needs an access_token")
        for form_id, form in self.forms.items():
            if form.site_id is not None and not self.allows_site(form.site_id):
                raise ValueError(f"form {form_id}: site {form.site_id} is not in sites")
        return self

    def allows_site(self, site_id: str) -> bool:
        return ALL_SITES in self.sites or site_id in self.sites


class IntegrationsFile(_Config):
    integrations: tuple[Integration, ...]

    @model_validator(mode="after")
    def _unique(self) -> IntegrationsFile:
        ids = [i.id for i in self.integrations]
        if len(set(ids)) != len(ids):
            raise ValueError(f"integration ids must be unique: {sorted(_twice(ids))}")
        hashes = [key.sha256 for i in self.integrations for key in i.api_keys]
        if len(set(hashes)) != len(hashes):
            raise ValueError("an api key hash appears twice: one key must name one integration")
        return self


def _twice(values: Iterable[str]) -> set[str]:
    return {value for value, count in Counter(values).items() if count > 1}


def hash_key(key: str) -> str:
    """What the integrations file stores for an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller of the native API."""

    integration: Integration
    key_id: str

    @property
    def principal(self) -> str:
        return f"{self.integration.id}/{self.key_id}"


class AccessDeniedError(Exception):
    """The caller is known but may not write there; the message says why."""


@dataclass(frozen=True)
class Tenancy:
    """Validated integrations with their resolved secrets, and the look-ups on them."""

    integrations: Mapping[str, Integration] = field(default_factory=dict)
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    access_tokens: Mapping[str, str] = field(default_factory=dict)  # or LimeSurvey password
    _keys: dict[str, tuple[Integration, str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        config: IntegrationsFile,
        *,
        secrets: Mapping[str, tuple[str, ...]],
        access_tokens: Mapping[str, str],
    ) -> Tenancy:
        keys = {k.sha256: (i, k.id) for i in config.integrations for k in i.api_keys}
        return cls(
            integrations={i.id: i for i in config.integrations},
            secrets=dict(secrets),
            access_tokens=dict(access_tokens),
            _keys=keys,
        )

    def authenticate(self, key: str) -> Caller | None:
        # Looked up by the key's SHA-256: timing reveals nothing usable about the key itself.
        found = self._keys.get(hash_key(key))
        if found is None:
            return None
        integration, key_id = found
        return Caller(integration=integration, key_id=key_id)

    @staticmethod
    def authorise(caller: Caller, *, network_id: str, site_id: str) -> None:
        integration = caller.integration
        if integration.network_id != network_id:
            raise AccessDeniedError(
                f"API key {caller.key_id} of integration {integration.id} belongs to network "
                f"{integration.network_id}, not {network_id}"
            )
        if not integration.allows_site(site_id):
            raise AccessDeniedError(
                f"API key {caller.key_id} of integration {integration.id} may write for sites "
                f"{', '.join(integration.sites)}, not {site_id}"
            )

    def with_forms(self, managed: Mapping[tuple[str, str], Mapping[str, FormMapping]]) -> Tenancy:
        """The same integrations, each form of ``managed[(network, integration)]`` replacing
        or adding to the file's (mappings managed through the API win)."""
        integrations: dict[str, Integration] = {}
        for integration_id, integration in self.integrations.items():
            extra = managed.get((integration.network_id, integration_id))
            integrations[integration_id] = (
                integration.model_copy(update={"forms": {**integration.forms, **extra}})
                if extra
                else integration
            )
        keys = {h: (integrations[i.id], key_id) for h, (i, key_id) in self._keys.items()}
        return replace(self, integrations=integrations, _keys=keys)

    def webhook(self, platform: str, integration_id: str) -> Integration | None:
        integration = self.integrations.get(integration_id)
        if integration is None or integration.platform.value != platform:
            return None
        return integration
