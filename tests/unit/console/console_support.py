"""A console app over a fake actions API, and sessions made the way sign-in makes them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from boucle_console.adapters.api import ApiError, BuildView, Download
from boucle_console.adapters.surveys import Plans, PlanVersion, RateRow
from boucle_console.app import create_app
from boucle_console.domain.actions import ActionView
from boucle_console.domain.cases import CaseView
from boucle_console.domain.meetings import MeetingView
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
    meetings_by_id: dict[str, MeetingView] = field(default_factory=dict)
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

    async def problem_drafts(self, token: str, network_id: str) -> list[ActionView]:
        return [a for a in self.actions_by_id.values() if a.origin == "degradation"]

    async def update_action(
        self, token: str, network_id: str, action: ActionView, changes: dict[str, Any]
    ) -> ActionView:
        self.calls.append((action.action_id, "update", changes))
        values = dict(changes)
        if "measures" in values:
            values["measures"] = tuple(values["measures"])
        if "documents" in values:
            values["documents"] = tuple(values["documents"])
        if isinstance(values.get("due_date"), str):
            values["due_date"] = date.fromisoformat(values["due_date"])
        values.pop("root_cause_analysis", None)
        if "stakeholders_informed" in values:
            values["informed"] = tuple(
                (n["who"], datetime.fromisoformat(n["when"]), n["how"])
                for n in values.pop("stakeholders_informed")
            )
        moved = replace(action, revision=action.revision + 1, **values)
        self.actions_by_id[action.action_id] = moved
        return moved

    async def evaluate_action(self, token: str, network_id: str, action: ActionView) -> ActionView:
        self.calls.append((action.action_id, "evaluate", {}))
        return action

    async def create_action(self, token: str, network_id: str, body: dict[str, Any]) -> ActionView:
        self.calls.append(("new", "create", body))
        made = action(
            f"a-{body['request_id']}",
            "draft",
            title=body["title"],
            problem=body["problem"],
            meeting_id=body.get("meeting_id"),
        )
        self.actions_by_id[made.action_id] = made
        return made

    async def meetings(self, token: str, network_id: str) -> list[MeetingView]:
        return list(self.meetings_by_id.values())

    async def meeting(self, token: str, network_id: str, meeting_id: str) -> MeetingView:
        found = self.meetings_by_id.get(meeting_id)
        if found is None:
            raise ApiError(404, "no such meeting")
        return found

    async def record_meeting(
        self, token: str, network_id: str, body: dict[str, Any]
    ) -> MeetingView:
        self.calls.append(("new", "meeting", body))
        made = MeetingView.from_api(
            body | {"meeting_id": f"m-{len(self.meetings_by_id) + 1}", "recorded_by": "usr"}
        )
        self.meetings_by_id[made.meeting_id] = made
        return made

    async def ready(self) -> bool:
        return True


@dataclass
class FakeReporter:
    """Files by name, builds in memory."""

    files: dict[str, bytes] = field(default_factory=dict)
    built: list[BuildView] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def download(self, token: str, network_id: str, name: str) -> Download:
        self.calls.append(("download", name))
        if name not in self.files:
            raise ApiError(404, "no such file")
        media = "text/csv" if name.endswith(".csv") else "application/octet-stream"
        return Download(self.files[name], media, name.rsplit("/", 1)[-1])

    async def tracking_table_csv(self, token: str, network_id: str) -> bytes:
        return (await self.download(token, network_id, "tracking-table.csv")).content

    async def builds(self, token: str, network_id: str) -> list[BuildView]:
        return list(self.built)

    async def request_build(
        self, token: str, network_id: str, *, start: date, end: date, language: str
    ) -> BuildView:
        self.calls.append(("build", (start, end, language)))
        made = BuildView("0" * 32, "queued", str(start), str(end), (), 0.0, NOW, None, None)
        self.built.append(made)
        return made

    async def ready(self) -> bool:
        return True


@dataclass
class FakeSurveys:
    """Plan versions and rates in memory; refuses like the surveys service (422 in French)."""

    versions: list[PlanVersion] = field(default_factory=list)
    in_force: int | None = None
    rates: list[RateRow] = field(default_factory=list)
    refusal: str | None = None  # the next publication is refused with this reason
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def plans(self, token: str, network_id: str) -> Plans:
        return Plans(self.in_force, tuple(self.versions))

    async def publish_plan(self, token: str, network_id: str, body: dict[str, Any]) -> PlanVersion:
        self.calls.append(("publish", body))
        if self.refusal:
            raise ApiError(422, self.refusal)
        # the service answers in UTC, as it stores
        effective = datetime.fromisoformat(body["effective_from"]).astimezone(UTC)
        made = PlanVersion.from_api(
            body
            | {
                "effective_from": effective.isoformat(),
                "version": len(self.versions) + 1,
                "published_by": "usr-quality_lead",
                "published_at": NOW.isoformat(),
                "note": body.get("note"),
            }
        )
        self.versions.append(made)
        return made

    async def response_rates(self, token: str, network_id: str, by: Any) -> list[RateRow]:
        self.calls.append(("rates", tuple(by)))
        return list(self.rates)

    async def ready(self) -> bool:
        return True


@dataclass
class FakeCollector:
    """What the public form posted, by kind; ``status`` makes the next posts fail."""

    posted: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    status: int | None = None

    async def _post(self, kind: str, network_id: str, site_id: str, body: dict[str, Any]) -> None:
        if self.status:
            raise ApiError(self.status, "refused")
        self.posted.append((kind, network_id, site_id, body))

    async def post_complaint(self, network_id: str, site_id: str, body: dict[str, Any]) -> None:
        await self._post("complaint", network_id, site_id, body)

    async def post_survey_response(
        self, network_id: str, site_id: str, body: dict[str, Any]
    ) -> None:
        await self._post("survey_response", network_id, site_id, body)


def problem_draft(
    action_id: str,
    *,
    severity: str = "high",
    sites: tuple[str, ...] = ("lyon",),
    status: str = "draft",
    **changes: Any,
) -> ActionView:
    """A draft the actions service made from a problem: the problem kept as its evidence."""
    evidence = {
        "problem_id": f"pb-{action_id}",
        "scopes": [{"level": "site", "network_id": NET, "site_id": s} for s in sites],
        "severity": severity,
        "detected_at": (NOW - timedelta(days=3)).isoformat(),
        "opened_week": (NOW - timedelta(days=10)).isoformat(),
        "degradation_ids": [f"dg-{s}" for s in sites],
        "degradations": [
            {
                "degradation_id": f"dg-{s}",
                "scope": {"level": "site", "network_id": NET, "site_id": s},
                "metric": "mean_satisfaction",
                "baseline": {"value": 4.21, "sample_size": 180, "period": {}},
                "current": {"value": 3.42, "sample_size": 64, "period": {}},
                "tests": [
                    {
                        "name": "welch_t",
                        "statistic": -4.1,
                        "p_value": 0.0004,
                        "adjusted_p_value": 0.0021,
                        "comparison": "own_baseline",
                    }
                ],
                "severity": severity,
            }
            for s in sites
        ],
        "themes": [{"theme": "platform", "share": 0.62, "comment_count": 31}],
        "example_comment_ids": ["cm-1", "cm-2"],
        "complaint_ids": ["cpl-1", "cpl-gone"],
        "emerging_terms": ["connexion"],
    }
    values: dict[str, Any] = {
        "title": f"Baisse de la satisfaction moyenne : {', '.join(sites)}",
        "problem": "Satisfaction moyenne passée de 4,21 à 3,42",
        "objective": None,
        "measures": (),
        "owner": None,
        "due_date": None,
        "origin": "degradation",
        "evidence": evidence,
        "site_id": sites[0] if len(sites) == 1 else None,  # several sites: network-wide
    }
    return action(action_id, status, **(values | changes))


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


def session_cookie(
    role: str, *, sites: tuple[str, ...] = ("lyon",), email: str | None = None, **claims: Any
) -> str:
    """The cookie sign-in leaves: the person's tokens and a CSRF token, encrypted."""
    if role == "auditor":
        claims.setdefault("period_start", (NOW - timedelta(days=365)).date().isoformat())
        claims.setdefault("period_end", NOW.date().isoformat())
    if role != "quality_lead":
        claims["site_ids"] = list(sites)
    token = ISSUER.token(network_id=NET, role=role, subject=f"usr-{role}", **claims)
    codec = SessionCodec(SECRET, max_age_seconds=3600)
    return codec.encode({"tokens": {"access_token": token, "email": email}, "csrf": CSRF})


def client(
    fake: FakeActions,
    role: str | None = None,
    *,
    reporter: FakeReporter | None = None,
    surveys: FakeSurveys | None = None,
    collector: FakeCollector | None = None,
    **claims: Any,
) -> httpx.AsyncClient:
    app = create_app(
        settings(),
        actions=fake,
        reporter=reporter or FakeReporter(),
        surveys=surveys or FakeSurveys(),
        collector=collector,
    )
    cookies = {COOKIE: session_cookie(role, **claims)} if role else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console", cookies=cookies
    )
