"""LimeSurvey RemoteControl 2 over JSON-RPC: a session, ``export_responses``, release.

``get_session_key(username, password)`` → key (or ``{"status": "Invalid user name or
password"}``); ``export_responses(key, survey, "json", null, "complete", "code", "short",
from_id)`` → the export, base64-encoded JSON (or ``{"status": "No Data, …"}`` when the survey
has no response yet); ``release_session_key(key)``, always, even after a failure.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from typing import Any

import httpx

from boucle_collector.domain.integrations import LimeSurveySource

EMPTY: dict[str, Any] = {"responses": []}


class LimeSurveyError(Exception):
    """The instance could not be read (network, HTTP, JSON-RPC or LimeSurvey status)."""


class LimeSurveyClient:
    def __init__(self, *, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds

    @staticmethod
    async def _call(http: httpx.AsyncClient, url: str, method: str, params: list[Any]) -> Any:
        try:
            reply = await http.post(url, json={"method": method, "params": params, "id": 1})
            reply.raise_for_status()
            document = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LimeSurveyError(f"{method}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(document, dict):
            raise LimeSurveyError(f"{method}: the answer is not a JSON-RPC object")
        if document.get("error"):
            raise LimeSurveyError(f"{method}: {document['error']}")
        return document.get("result")

    async def export_after(
        self, source: LimeSurveySource, *, password: str, survey_id: str, after: int
    ) -> Any:
        """The decoded export of the completed responses numbered from ``after + 1``."""
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            key = await self._call(http, source.url, "get_session_key", [source.username, password])
            if not isinstance(key, str):
                status = key.get("status") if isinstance(key, dict) else key
                raise LimeSurveyError(f"get_session_key refused: {status}")
            try:
                result = await self._call(
                    http,
                    source.url,
                    "export_responses",
                    [key, int(survey_id), "json", None, "complete", "code", "short", after + 1],
                )
            finally:
                with contextlib.suppress(LimeSurveyError):  # else it expires on its own
                    await self._call(http, source.url, "release_session_key", [key])
        if isinstance(result, dict):
            status = str(result.get("status", ""))
            if status.startswith("No ") or "no response" in status.lower():
                return EMPTY  # "No Data, …", "No Response found …": nothing to export
            raise LimeSurveyError(f"export_responses refused: {status or result}")
        if not isinstance(result, str):
            raise LimeSurveyError("export_responses: the result is not base64 text")
        try:
            return json.loads(base64.b64decode(result, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise LimeSurveyError(f"export_responses: not base64 JSON: {exc}") from exc
