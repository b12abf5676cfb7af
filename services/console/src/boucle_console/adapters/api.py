"""Calls to the actions and reporter APIs on behalf of the person signed in.

The person's own access token goes with every call: those services decide what this person
may see and do (sites, role, audit period), the console only shows their answer. An answer
that is not a success becomes an :class:`ApiError` carrying its status and reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from boucle_console.domain.actions import ActionView
from boucle_console.domain.cases import CaseView
from boucle_console.domain.meetings import MeetingView

JSON = dict[str, Any]


class ApiError(Exception):
    """The API refused (403, 404, 409, 422…) or could not be reached (503)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class ActionsApi(Protocol):
    """What the pages need of the actions service (a fake one serves the unit tests)."""

    async def cases(self, token: str, network_id: str) -> list[CaseView]: ...
    async def case(self, token: str, network_id: str, case_id: str) -> CaseView: ...
    async def transition_case(
        self, token: str, network_id: str, case: CaseView, to: str, **fields: str | None
    ) -> CaseView: ...
    async def deadlines(self, token: str, network_id: str) -> tuple[float, float]: ...
    async def actions(self, token: str, network_id: str) -> list[ActionView]: ...
    async def action(self, token: str, network_id: str, action_id: str) -> ActionView: ...
    async def transition_action(
        self, token: str, network_id: str, action: ActionView, to: str, note: str | None
    ) -> ActionView: ...
    async def problem_drafts(self, token: str, network_id: str) -> list[ActionView]: ...
    async def update_action(
        self, token: str, network_id: str, action: ActionView, changes: JSON
    ) -> ActionView: ...
    async def evaluate_action(
        self, token: str, network_id: str, action: ActionView
    ) -> ActionView: ...
    async def create_action(self, token: str, network_id: str, body: JSON) -> ActionView: ...
    async def meetings(self, token: str, network_id: str) -> list[MeetingView]: ...
    async def meeting(self, token: str, network_id: str, meeting_id: str) -> MeetingView: ...
    async def record_meeting(self, token: str, network_id: str, body: JSON) -> MeetingView: ...
    async def ready(self) -> bool: ...


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(str(item.get("msg", item)) for item in detail if isinstance(item, dict))
    return str(detail) if detail else response.reason_phrase


class HttpActionsApi:
    """The actions service over HTTP (one connection pool for every person)."""

    PAGE = 200  # the API's largest page

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _call(
        self, method: str, path: str, token: str, *, json: JSON | None = None, **params: Any
    ) -> Any:
        try:
            response = await self._client.request(
                method,
                path,
                json=json,
                params={k: v for k, v in params.items() if v is not None} or None,
                headers={"authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                503, f"the actions service did not answer ({type(exc).__name__})"
            ) from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.json()

    @staticmethod
    def _base(network_id: str) -> str:
        return f"/v1/networks/{quote(network_id, safe='')}"

    async def _all(self, path: str, token: str, **params: Any) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        offset = 0
        while True:
            page = await self._call("GET", path, token, offset=offset, limit=self.PAGE, **params)
            items.extend(page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"] or offset >= 2_000:
                return items  # 2 000 open items is beyond what one page can show anyway

    async def cases(self, token: str, network_id: str) -> list[CaseView]:
        listed = await self._all(f"{self._base(network_id)}/cases", token)
        return [CaseView.from_api(c) for c in listed if c["status"] != "closed"]

    async def case(self, token: str, network_id: str, case_id: str) -> CaseView:
        path = f"{self._base(network_id)}/cases/{quote(case_id, safe='')}"
        return CaseView.from_api(await self._call("GET", path, token))

    async def transition_case(
        self, token: str, network_id: str, case: CaseView, to: str, **fields: str | None
    ) -> CaseView:
        path = f"{self._base(network_id)}/cases/{quote(case.case_id, safe='')}/transitions"
        body: JSON = {"to": to, "expected_revision": case.revision}
        body |= {k: v for k, v in fields.items() if v}
        return CaseView.from_api(await self._call("POST", path, token, json=body))

    async def deadlines(self, token: str, network_id: str) -> tuple[float, float]:
        found = await self._call("GET", f"{self._base(network_id)}/settings/deadlines", token)
        return float(found["acknowledge_within_hours"]), float(found["answer_within_days"])

    async def actions(self, token: str, network_id: str) -> list[ActionView]:
        listed = await self._all(f"{self._base(network_id)}/actions", token)
        return [ActionView.from_api(a) for a in listed]

    async def action(self, token: str, network_id: str, action_id: str) -> ActionView:
        path = f"{self._base(network_id)}/actions/{quote(action_id, safe='')}"
        return ActionView.from_api(await self._call("GET", path, token))

    async def transition_action(
        self, token: str, network_id: str, action: ActionView, to: str, note: str | None
    ) -> ActionView:
        path = f"{self._base(network_id)}/actions/{quote(action.action_id, safe='')}/transitions"
        body: JSON = {"to": to, "expected_revision": action.revision, "note": note or None}
        return ActionView.from_api(await self._call("POST", path, token, json=body))

    async def problem_drafts(self, token: str, network_id: str) -> list[ActionView]:
        """The actions drafted from problems (and what became of them)."""
        listed = await self._all(f"{self._base(network_id)}/actions", token, source="degradation")
        return [ActionView.from_api(a) for a in listed]

    async def update_action(
        self, token: str, network_id: str, action: ActionView, changes: JSON
    ) -> ActionView:
        path = f"{self._base(network_id)}/actions/{quote(action.action_id, safe='')}"
        body: JSON = {"expected_revision": action.revision} | changes
        return ActionView.from_api(await self._call("PATCH", path, token, json=body))

    async def evaluate_action(self, token: str, network_id: str, action: ActionView) -> ActionView:
        path = f"{self._base(network_id)}/actions/{quote(action.action_id, safe='')}/evaluation"
        return ActionView.from_api(await self._call("POST", path, token))

    async def create_action(self, token: str, network_id: str, body: JSON) -> ActionView:
        path = f"{self._base(network_id)}/actions"
        return ActionView.from_api(await self._call("POST", path, token, json=body))

    async def meetings(self, token: str, network_id: str) -> list[MeetingView]:
        listed = await self._all(f"{self._base(network_id)}/meetings", token)
        return [MeetingView.from_api(m) for m in listed]

    async def meeting(self, token: str, network_id: str, meeting_id: str) -> MeetingView:
        path = f"{self._base(network_id)}/meetings/{quote(meeting_id, safe='')}"
        return MeetingView.from_api(await self._call("GET", path, token))

    async def record_meeting(self, token: str, network_id: str, body: JSON) -> MeetingView:
        path = f"{self._base(network_id)}/meetings"
        return MeetingView.from_api(await self._call("POST", path, token, json=body))

    async def ready(self) -> bool:
        try:
            return (await self._client.get("/health/live", timeout=1.5)).status_code == 200
        except httpx.HTTPError:
            return False


class ReporterApi(Protocol):
    """What the pages need of the reporter (a fake one serves the unit tests)."""

    async def download(self, token: str, network_id: str, name: str) -> Download: ...
    async def tracking_table_csv(self, token: str, network_id: str) -> bytes: ...
    async def builds(self, token: str, network_id: str) -> list[BuildView]: ...
    async def request_build(
        self, token: str, network_id: str, *, start: date, end: date, language: str
    ) -> BuildView: ...
    async def ready(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Download:
    """A file from the reporter, passed on to the browser as it came."""

    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class BuildView:
    """A dossier de preuves being built, or built (its zip then downloadable)."""

    build_id: str
    status: str  # queued, running, done, failed
    start: str
    end: str
    sites: tuple[str, ...]
    progress: float
    requested_at: datetime
    size: int | None
    sha256: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BuildView:
        period = data.get("period") or {}
        return cls(
            build_id=data["build_id"],
            status=data["status"],
            start=str(period.get("from", "")),
            end=str(period.get("to", "")),
            sites=tuple(data.get("sites", ())),
            progress=float(data.get("progress", 0.0)),
            requested_at=datetime.fromisoformat(str(data["requested_at"])),
            size=data.get("size"),
            sha256=data.get("sha256"),
        )


class HttpReporterApi:
    """The reporter over HTTP: the tracking table and the dossier, passed through."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _request(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(
                method, path, headers={"authorization": f"Bearer {token}"}, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"the reporter did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response

    @staticmethod
    def _base(network_id: str) -> str:
        return f"/v1/networks/{quote(network_id, safe='')}"

    async def download(self, token: str, network_id: str, name: str) -> Download:
        """``name``: ``tracking-table.csv``, ``tracking-table.xlsx`` or
        ``builds/<id>/dossier.zip`` (the caller checks it is one of them)."""
        response = await self._request("GET", f"{self._base(network_id)}/{name}", token)
        media = response.headers.get("content-type", "application/octet-stream")
        disposition = response.headers.get("content-disposition", "")
        filename = (
            disposition.split("filename=")[-1].strip('"; ') if "filename=" in disposition else ""
        )
        return Download(response.content, media, filename or name.rsplit("/", 1)[-1])

    async def tracking_table_csv(self, token: str, network_id: str) -> bytes:
        return (await self.download(token, network_id, "tracking-table.csv")).content

    async def builds(self, token: str, network_id: str) -> list[BuildView]:
        response = await self._request("GET", f"{self._base(network_id)}/builds", token)
        return [BuildView.from_api(b) for b in response.json()]

    async def request_build(
        self, token: str, network_id: str, *, start: date, end: date, language: str
    ) -> BuildView:
        body = {"from": start.isoformat(), "to": end.isoformat(), "language": language}
        response = await self._request("POST", f"{self._base(network_id)}/builds", token, json=body)
        return BuildView.from_api(response.json())

    async def ready(self) -> bool:
        try:
            return (await self._client.get("/health/live", timeout=1.5)).status_code == 200
        except httpx.HTTPError:
            return False


def utc_now() -> datetime:
    return datetime.now(UTC)
