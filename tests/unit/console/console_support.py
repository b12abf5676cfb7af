"""A console app over a fake actions API, and sessions made the way sign-in makes them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from boucle_console.adapters.api import ApiError
from boucle_console.app import create_app
from boucle_console.domain.actions import ActionView
from boucle_console.domain.cases import CaseView
from boucle_console.session import COOKIE, SessionCodec
from boucle_console.settings import ConsoleSettings
from tools.localstack import LocalIssuer

ISSUER = LocalIssuer()
SECRET = "unit-test-session-secret-0123456789abcdef"
NET = "net-unit"
NOW = datetime.now(UTC).replace(microsecond=0)
CSRF = "csrf-unit-token"


def case(case_id: str, site: str, **changes: Any) -> CaseView:
    base = CaseView(
        case_id=case_id,
        site_id=site,
        source="complaint",
        summary=f"Salle trop froide ({case_id})",
        category="locaux",
        status="received",
        revision=1,
        opened_at=NOW - timedelta(hours=3),
        acknowledge_due_at=NOW + timedelta(hours=45),
        answer_due_at=NOW + timedelta(days=15),
        acknowledged_at=None,
        answered_at=None,
        answer=None,
        root_cause=None,
    )
    return replace(base, **changes)


def action(action_id: str, status: str = "proposed", **changes: Any) -> ActionView:
    base = ActionView(
        action_id=action_id,
        site_id="lyon",
        title="Chauffer les salles avant 8 h",
        problem="Plaintes sur le froid",
        objective="Satisfaction ≥ 4/5",
        measures=("Programmer le chauffage",),
        owner="usr-resp",
        due_date=(NOW + timedelta(days=30)).date(),
        priority="high",
        status=status,
        revision=2,
        created_at=NOW - timedelta(days=2),
    )
    return replace(base, **changes)


@dataclass
class FakeActions:
    """Keeps cases and actions in memory; refuses sites outside the token like the API."""

    cases_by_id: dict[str, CaseView] = field(default_factory=dict)
    actions_by_id: dict[str, ActionView] = field(default_factory=dict)
    allowed_sites: set[str] = field(default_factory=lambda: {"lyon"})
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def cases(self, token: str, network_id: str) -> list[CaseView]:
        return [c for c in self.cases_by_id.values() if c.status != "closed"]

    async def case(self, token: str, network_id: str, case_id: str) -> CaseView:
        found = self.cases_by_id.get(case_id)
        if found is None:
            raise ApiError(404, "no such case")
        if found.site_id not in self.allowed_sites:
            raise ApiError(403, f"site {found.site_id!r} is not among this token's sites")
        return found

    async def transition_case(
        self, token: str, network_id: str, case: CaseView, to: str, **fields: str | None
    ) -> CaseView:
        self.calls.append((case.case_id, to, fields))
        moved = replace(case, status=to, revision=case.revision + 1)
        self.cases_by_id[case.case_id] = moved
        return moved

    async def deadlines(self, token: str, network_id: str) -> tuple[float, float]:
        return 48.0, 15.0

    async def actions(self, token: str, network_id: str) -> list[ActionView]:
        return list(self.actions_by_id.values())

    async def action(self, token: str, network_id: str, action_id: str) -> ActionView:
        found = self.actions_by_id.get(action_id)
        if found is None:
            raise ApiError(404, "no such action")
        return found

    async def transition_action(
        self, token: str, network_id: str, action: ActionView, to: str, note: str | None
    ) -> ActionView:
        self.calls.append((action.action_id, to, {"note": note}))
        moved = replace(action, status=to, revision=action.revision + 1)
        self.actions_by_id[action.action_id] = moved
        return moved

    async def ready(self) -> bool:
        return True


def settings(**overrides: Any) -> ConsoleSettings:
    values: dict[str, Any] = {
        "auth_issuer": ISSUER.issuer,
        "auth_audience": ISSUER.audience,
        "auth_public_key": ISSUER.public_pem,
        "session_secret": SECRET,
        "log_format": "console",
        "log_level": "WARNING",
    }
    return ConsoleSettings(**(values | overrides))


def session_cookie(role: str, *, sites: tuple[str, ...] = ("lyon",), **claims: Any) -> str:
    """The cookie sign-in leaves: the person's tokens and a CSRF token, encrypted."""
    if role == "auditor":
        claims.setdefault("period_start", (NOW - timedelta(days=365)).date().isoformat())
        claims.setdefault("period_end", NOW.date().isoformat())
    if role != "quality_lead":
        claims["site_ids"] = list(sites)
    token = ISSUER.token(network_id=NET, role=role, subject=f"usr-{role}", **claims)
    codec = SessionCodec(SECRET, max_age_seconds=3600)
    return codec.encode({"tokens": {"access_token": token}, "csrf": CSRF})


def client(fake: FakeActions, role: str | None = None, **claims: Any) -> httpx.AsyncClient:
    app = create_app(settings(), actions=fake)
    cookies = {COOKIE: session_cookie(role, **claims)} if role else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console", cookies=cookies
    )
