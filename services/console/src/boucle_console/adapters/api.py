"""Calls to the actions and reporter APIs on behalf of the person signed in.

The person's own access token goes with every call: those services decide what this person
may see and do (sites, role, audit period), the console only shows their answer. An answer
that is not a success becomes an :class:`ApiError` carrying its status and reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from boucle_console.domain.actions import ActionView
from boucle_console.domain.cases import CaseView

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

    async def ready(self) -> bool:
        try:
            return (await self._client.get("/health/live", timeout=1.5)).status_code == 200
        except httpx.HTTPError:
            return False


class HttpReporterApi:
    """The reporter over HTTP: its tracking table, streamed through to the browser."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def tracking_table_csv(self, token: str, network_id: str) -> bytes:
        path = f"/v1/networks/{quote(network_id, safe='')}/tracking-table.csv"
        try:
            response = await self._client.get(path, headers={"authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise ApiError(503, f"the reporter did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.content

    async def ready(self) -> bool:
        try:
            return (await self._client.get("/health/live", timeout=1.5)).status_code == 200
        except httpx.HTTPError:
            return False


def utc_now() -> datetime:
    return datetime.now(UTC)
