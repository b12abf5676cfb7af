"""Reading survey exports: CSV (delimiter sniffed, UTF-8 with or without BOM, or Latin-1)
and XLSX (first sheet, first row as headers), as rows of header -> cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import load_workbook  # type: ignore[import-untyped]

from boucle_collector.domain.tabular import Cell

XLSX_TYPES = frozenset(
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/xlsx"}
)
ZIP_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """The file cannot be read as a table; the message says why."""


def _text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")  # Excel's "CSV (séparateur : point-virgule)"


def csv_rows(content: bytes) -> list[dict[str, Cell]]:
    text = _text(content)
    if not text.strip():
        raise TableError("the file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel  # one column, or too regular to sniff: comma
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames or len(set(reader.fieldnames)) != len(reader.fieldnames):
        raise TableError("the first line must name every column, each once")
    return [{k: v for k, v in row.items() if k is not None} for row in reader]


def xlsx_rows(content: bytes) -> list[dict[str, Cell]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableError(f"not a readable XLSX workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        rows: Iterator[tuple[Cell, ...]] = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or any(h is None for h in header):
            raise TableError("the first row must name every column")
        names = [str(h).strip() for h in header]
        if len(set(names)) != len(names):
            raise TableError("column names must be unique")
        return [
            dict(zip(names, row, strict=False))
            for row in rows
            if any(cell not in (None, "") for cell in row)
        ]
    finally:
        workbook.close()


def read_table(content: bytes, content_type: str) -> list[dict[str, Cell]]:
    """Rows of a CSV or XLSX export, chosen by content type (or the XLSX zip signature)."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media in XLSX_TYPES or content.startswith(ZIP_MAGIC):
        return xlsx_rows(content)
    return csv_rows(content)
