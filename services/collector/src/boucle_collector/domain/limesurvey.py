"""LimeSurvey exports (RemoteControl 2 ``export_responses``, document type ``json``). Pure.

The decoded export is ``{"responses": [...]}`` where each item is either ``{"<id>":
{...fields}}`` (LimeSurvey up to 5.x) or the fields themselves with their ``id`` (6.x).
Fields are question codes (``G01Q01``, ``G01Q02[SQ001]`` for a subquestion) plus metadata.
Submit dates are the server's local time without zone: read in the integration's zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from boucle_collector.domain.response_mapping import PlatformResponse, RawField, Value

PLATFORM = "limesurvey"
# Columns of every export that are not answers.
METADATA = frozenset(
    {
        "id",
        "token",
        "submitdate",
        "lastpage",
        "startlanguage",
        "seed",
        "startdate",
        "datestamp",
        "ipaddr",
        "refurl",
    }
)


class ExportFormatError(ValueError):
    """The export is not in LimeSurvey's documented format; the message names the field."""


def _rows(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping) or not isinstance(document.get("responses"), list):
        raise ExportFormatError("export: field responses (a list) is missing")
    rows: list[Mapping[str, Any]] = []
    for index, item in enumerate(document["responses"]):
        if not isinstance(item, Mapping):
            raise ExportFormatError(f"export: responses.{index} is not an object")
        if "id" not in item and len(item) == 1:  # {"<id>": {...}}: up to LimeSurvey 5
            ((key, fields),) = item.items()
            if not isinstance(fields, Mapping):
                raise ExportFormatError(f"export: responses.{index}.{key} is not an object")
            rows.append({"id": key, **fields})
        else:
            rows.append(item)
    return rows


def _value(value: Any) -> Value:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _response_id(row: Mapping[str, Any], index: int) -> int:
    raw = row.get("id")
    if isinstance(raw, bool) or not str(raw).isdigit():
        raise ExportFormatError(f"export: responses.{index}.id must be a response number")
    return int(str(raw))


def parse_export(document: Any, *, survey_id: str, zone: ZoneInfo) -> list[PlatformResponse]:
    """The completed responses of an export, by increasing response id."""
    responses: list[PlatformResponse] = []
    for index, row in enumerate(_rows(document)):
        response_id = _response_id(row, index)
        submitted = row.get("submitdate")
        if not submitted:
            continue  # not completed (only completed responses are asked for)
        try:
            submitted_at = datetime.fromisoformat(str(submitted)).replace(tzinfo=zone)
        except ValueError as exc:
            raise ExportFormatError(
                f"export: responses.{index}.submitdate is not a date: {submitted!r}"
            ) from exc
        fields = tuple(
            RawField(question_id=name, value=_value(value))
            for name, value in row.items()
            if name not in METADATA
        )
        language = row.get("startlanguage")
        responses.append(
            PlatformResponse(
                platform=PLATFORM,
                form_id=survey_id,
                response_id=str(response_id),
                submitted_at=submitted_at,
                fields=fields,
                language=str(language)[:2] if language else None,
            )
        )
    return sorted(responses, key=lambda r: int(r.response_id))
