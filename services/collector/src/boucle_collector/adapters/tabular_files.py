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


class TooManyRowsError(TableError):
    """The file has more data rows than the cap; reading stopped at the first one beyond."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            f"the file has more than {max_rows} rows; at most {max_rows} per import "
            "(split the file, or raise BOUCLE_COLLECTOR_MAX_IMPORT_ROWS)"
        )
        self.max_rows = max_rows


def iter_csv_rows(content: bytes) -> Iterator[dict[str, Cell]]:
    """The rows of a CSV export, one at a time (the csv reader is lazy)."""
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
    for row in reader:
        yield {k: v for k, v in row.items() if k is not None}


def iter_xlsx_rows(content: bytes) -> Iterator[dict[str, Cell]]:
    """The rows of an XLSX workbook's first sheet, streamed (openpyxl's read-only mode parses
    the sheet as it is iterated: stopping early costs only what was read)."""
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
        for row in rows:
            if any(cell not in (None, "") for cell in row):
                yield dict(zip(names, row, strict=False))
    except TableError:
        raise
    except Exception as exc:  # a damaged sheet may only show while being read
        raise TableError(f"not a readable XLSX workbook: {exc}") from exc
    finally:
        workbook.close()


def csv_rows(content: bytes) -> list[dict[str, Cell]]:
    return list(iter_csv_rows(content))


def xlsx_rows(content: bytes) -> list[dict[str, Cell]]:
    return list(iter_xlsx_rows(content))


def iter_table(content: bytes, content_type: str) -> Iterator[dict[str, Cell]]:
    """Rows of a CSV or XLSX export, chosen by content type (or the XLSX zip signature)."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media in XLSX_TYPES or content.startswith(ZIP_MAGIC):
        return iter_xlsx_rows(content)
    return iter_csv_rows(content)


def read_table(
    content: bytes, content_type: str, *, max_rows: int | None = None
) -> list[dict[str, Cell]]:
    """Rows of a CSV or XLSX export; TooManyRowsError as soon as a row beyond ``max_rows``
    is met (the rest of the file is not read). Blocking: run it in a worker thread."""
    rows: list[dict[str, Cell]] = []
    for row in iter_table(content, content_type):
        if max_rows is not None and len(rows) >= max_rows:
            raise TooManyRowsError(max_rows)
        rows.append(row)
    return rows
