"""Survey exports as tables (CSV, XLSX): one row, one response. Pure Python.

A row is a mapping of column header to cell. The form's mapping names the column holding
the response id (``id_column``, default ``response_id``) and the one holding the submission
time (``submitted_at_column``, default ``submitted_at``); every other column is a question,
mapped by its header like a platform's question id. Times are ISO 8601 or French
``jj/mm/aaaa [hh:mm[:ss]]``; without a zone they are read as Europe/Paris local time, as
French spreadsheets are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from boucle_collector.domain.integrations import FormMapping
from boucle_collector.domain.response_mapping import MappingError, PlatformResponse, RawField, Value

PLATFORM = "import"
LOCAL_TIME = ZoneInfo("Europe/Paris")
FRENCH_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
Cell = str | int | float | bool | datetime | None


def parse_time(cell: Cell) -> datetime:
    if isinstance(cell, datetime):
        moment = cell
    elif isinstance(cell, str) and cell.strip():
        text = cell.strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for pattern in FRENCH_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
            else:
                raise MappingError(f"{text!r} is not a date (ISO 8601 or jj/mm/aaaa hh:mm)")
    else:
        raise MappingError("the submission time is empty")
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


def _value(cell: Cell) -> Value:
    if isinstance(cell, datetime):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str):
        return cell.strip() or None
    return cell


def row_response(row: Mapping[str, Cell], *, form_id: str, form: FormMapping) -> PlatformResponse:
    """The response a row holds, or MappingError naming the missing or bad column."""
    raw_id = row.get(form.id_column)
    if raw_id is None or str(raw_id).strip() == "":
        raise MappingError(f"column {form.id_column} (the response id) is empty or missing")
    response_id = _value(raw_id)
    try:
        submitted_at = parse_time(row.get(form.submitted_at_column))
    except MappingError as exc:
        raise MappingError(f"column {form.submitted_at_column}: {exc}") from exc
    skip = {form.id_column, form.submitted_at_column}
    return PlatformResponse(
        platform=PLATFORM,
        form_id=form_id,
        response_id=str(response_id),
        submitted_at=submitted_at,
        fields=tuple(
            RawField(question_id=str(column), value=_value(cell), label=str(column))
            for column, cell in row.items()
            if column not in skip and column
        ),
    )
