"""Spreadsheets formatted for people: bold frozen header, filters, widths, real dates."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

Value = str | date | float | int | None
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
DATE_FORMAT = "DD/MM/YYYY"
MAX_WIDTH = 60
MAX_SHEET_TITLE = 31  # Excel refuses longer sheet names
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sheet_title(title: str) -> str:
    """A name Excel accepts: at most 31 characters, none of []:*?/\\, no apostrophe at
    either end, not empty."""
    clean = SHEET_TITLE_FORBIDDEN.sub(" ", title)[:MAX_SHEET_TITLE].strip().strip("'").strip()
    return clean or "Feuille"


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Value]]


def _width(column: str, values: Sequence[Value]) -> float:
    longest = max(
        [len(column)] + [10 if isinstance(v, date) else len(str(v)) for v in values if v],
    )
    return min(MAX_WIDTH, longest + 2)


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX file: one worksheet per sheet (write-only mode: fast on large tables)."""
    book = Workbook(write_only=True)
    for sheet in sheets:
        ws: Worksheet = book.create_sheet(title=sheet_title(sheet.title))
        for index, column in enumerate(sheet.columns):
            sample = [row[index] for row in sheet.rows[:500]]
            ws.column_dimensions[get_column_letter(index + 1)].width = _width(column, sample)
        ws.freeze_panes = "A2"
        last = get_column_letter(len(sheet.columns))
        ws.auto_filter.ref = f"A1:{last}{len(sheet.rows) + 1}"
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([_cell(ws, value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(ws: Worksheet, value: Value) -> WriteOnlyCell | Value:
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # openpyxl makes any text beginning with "=" a formula: what people typed (a
        # complaint's subject) is stored as text, shown as typed, never run
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value
