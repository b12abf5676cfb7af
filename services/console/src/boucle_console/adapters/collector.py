"""The collector's native intake API, for the public form: a complaint or a remark goes in
like any other input (validated, pseudonymised, free text redacted, published), with the
console's own integration key. Sent again with the same id, the collector recognises it
(200, not published twice)."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

import httpx

from boucle_console.adapters.api import JSON, ApiError, _detail


class CollectorApi(Protocol):
    async def post_complaint(self, network_id: str, site_id: str, body: JSON) -> None: ...
    async def post_survey_response(self, network_id: str, site_id: str, body: JSON) -> None: ...


class HttpCollectorApi:
    def __init__(self, client: httpx.AsyncClient, api_key: str) -> None:
        self._client = client
        self._key = api_key

    async def _post(self, network_id: str, site_id: str, kind: str, body: JSON) -> None:
        path = f"/v1/networks/{quote(network_id, safe='')}/sites/{quote(site_id, safe='')}/{kind}"
        try:
            response = await self._client.post(path, json=body, headers={"x-api-key": self._key})
        except httpx.HTTPError as exc:
            raise ApiError(503, f"the collector did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))

    async def post_complaint(self, network_id: str, site_id: str, body: JSON) -> None:
        await self._post(network_id, site_id, "complaints", body)

    async def post_survey_response(self, network_id: str, site_id: str, body: JSON) -> None:
        await self._post(network_id, site_id, "survey-responses", body)
