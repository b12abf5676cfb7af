"""Calls to the surveys service (collection plan, response rates) on behalf of the person
signed in: their token goes with every call, the service narrows what they see (a site
manager's rates are their sites') and refuses what they may not do (publishing a plan is the
quality lead's). A refusal comes back as an :class:`ApiError` with the service's French
reason, shown as it is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from boucle_console.adapters.api import JSON, ApiError, _detail


@dataclass(frozen=True, slots=True)
class RuleView:
    """One line of a collection plan: which survey goes to whom, when, through which form."""

    rule_id: str
    label: str
    stakeholder: str  # learner, trainer, company, funder
    survey_kind: str  # hot, cold, end_of_programme, annual, ad_hoc
    trigger: str  # session_end, dropout, yearly
    delay_days: int
    programme_ids: tuple[str, ...]
    survey_id: str
    platform: str
    form_url: str
    anonymous: bool
    reminder_days: tuple[int, ...]
    expires_after_days: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RuleView:
        return cls(
            rule_id=data["rule_id"],
            label=data["label"],
            stakeholder=data["stakeholder"],
            survey_kind=data["survey_kind"],
            trigger=data["trigger"],
            delay_days=int(data.get("delay_days", 0)),
            programme_ids=tuple(data.get("programme_ids", ())),
            survey_id=data["survey_id"],
            platform=data["platform"],
            form_url=data["form_url"],
            anonymous=bool(data.get("anonymous", False)),
            reminder_days=tuple(int(d) for d in data.get("reminder_days", (3, 7))),
            expires_after_days=int(data.get("expires_after_days", 30)),
        )

    def to_api(self) -> JSON:
        return {
            "rule_id": self.rule_id,
            "label": self.label,
            "stakeholder": self.stakeholder,
            "survey_kind": self.survey_kind,
            "trigger": self.trigger,
            "delay_days": self.delay_days,
            "programme_ids": list(self.programme_ids),
            "survey_id": self.survey_id,
            "platform": self.platform,
            "form_url": self.form_url,
            "anonymous": self.anonymous,
            "reminder_days": list(self.reminder_days),
            "expires_after_days": self.expires_after_days,
        }


@dataclass(frozen=True, slots=True)
class PlanVersion:
    version: int
    effective_from: datetime
    published_by: str
    published_at: datetime
    rules: tuple[RuleView, ...]
    note: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlanVersion:
        return cls(
            version=int(data["version"]),
            effective_from=datetime.fromisoformat(str(data["effective_from"])),
            published_by=str(data["published_by"]),
            published_at=datetime.fromisoformat(str(data["published_at"])),
            rules=tuple(RuleView.from_api(r) for r in data.get("rules", ())),
            note=data.get("note"),
        )


@dataclass(frozen=True, slots=True)
class Plans:
    """Every version, and the one in force now (None before the first takes effect)."""

    in_force: int | None
    versions: tuple[PlanVersion, ...]

    @property
    def current(self) -> PlanVersion | None:
        return next((v for v in self.versions if v.version == self.in_force), None)

    @property
    def latest(self) -> PlanVersion | None:
        return max(self.versions, key=lambda v: v.version, default=None)


@dataclass(frozen=True, slots=True)
class RateRow:
    """People asked and people who answered in one group; ``rate`` None if nobody was asked."""

    group: Mapping[str, str | None]
    solicited: int
    answered: int
    rate: float | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RateRow:
        rate = data.get("rate")
        return cls(
            group=dict(data.get("group", {})),
            solicited=int(data["solicited"]),
            answered=int(data["answered"]),
            rate=None if rate is None else float(rate),
        )


class SurveysApi(Protocol):
    """What the pages need of the surveys service (a fake one serves the unit tests)."""

    async def plans(self, token: str, network_id: str) -> Plans: ...
    async def publish_plan(self, token: str, network_id: str, body: JSON) -> PlanVersion: ...
    async def response_rates(
        self, token: str, network_id: str, by: Sequence[str]
    ) -> list[RateRow]: ...
    async def ready(self) -> bool: ...


class HttpSurveysApi:
    """The surveys service over HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(
                method, path, headers={"authorization": f"Bearer {token}"}, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                503, f"the surveys service did not answer ({type(exc).__name__})"
            ) from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.json()

    @staticmethod
    def _base(network_id: str) -> str:
        return f"/v1/networks/{quote(network_id, safe='')}"

    async def plans(self, token: str, network_id: str) -> Plans:
        found = await self._call("GET", f"{self._base(network_id)}/collection-plan", token)
        return Plans(
            in_force=found.get("in_force"),
            versions=tuple(PlanVersion.from_api(v) for v in found.get("versions", ())),
        )

    async def publish_plan(self, token: str, network_id: str, body: JSON) -> PlanVersion:
        path = f"{self._base(network_id)}/collection-plan"
        return PlanVersion.from_api(await self._call("POST", path, token, json=body))

    async def response_rates(self, token: str, network_id: str, by: Sequence[str]) -> list[RateRow]:
        path = f"{self._base(network_id)}/response-rates"
        found = await self._call("GET", path, token, params=[("by", b) for b in by])
        return [RateRow.from_api(r) for r in found]

    async def ready(self) -> bool:
        try:
            return (await self._client.get("/health/live", timeout=1.5)).status_code == 200
        except httpx.HTTPError:
            return False
