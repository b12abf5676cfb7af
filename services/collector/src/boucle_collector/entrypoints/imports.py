"""File import of survey exports (CSV, XLSX) for providers who collect on paper or spreadsheets.

``POST /v1/imports/networks/{network_id}/sites/{site_id}/survey-responses?form=<form id>``
with the file as the body (``text/csv`` or the XLSX media type), an API key whose
integration maps that form (its ``forms`` entry, as for webhooks; columns are the question
ids). Every row is answered like a bulk line; re-importing a file is safe (rows already
accepted come back as duplicates, and are counted once downstream anyway).

Reading and mapping the file is CPU work (a 1.1 MB XLSX holds 100,000 rows): it runs in a
worker thread, streamed, and stops at the first row beyond ``max_import_rows`` (422 naming
the cap), so that the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from boucle_collector.adapters.tabular_files import (
    XLSX_TYPES,
    TableError,
    TooManyRowsError,
    read_table,
)
from boucle_collector.domain.intake import SURVEY_RESPONSE, Intake
from boucle_collector.domain.integrations import Caller, Integration
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.response_mapping import MappingError, map_response
from boucle_collector.domain.tabular import Cell, row_response
from boucle_collector.entrypoints.bulk import (
    BulkResult,
    Prepared,
    bulk_response,
    publish_prepared,
)
from boucle_collector.entrypoints.errors import COMMON_RESPONSES
from boucle_collector.entrypoints.gate import Gate
from boucle_collector.entrypoints.path_params import NetworkId, SiteId
from boucle_collector.intake_publisher import IntakePublisher

CHANNEL = "import"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a CSV export is sent as (Windows browsers say vnd.ms-excel), or an XLSX workbook;
# octet-stream: the content decides (an XLSX is recognised by its zip signature).
FILE_TYPES = XLSX_TYPES | {
    "text/csv",
    "application/csv",
    "text/plain",
    "application/vnd.ms-excel",
    "application/octet-stream",
}
FIRST_DATA_LINE = 2  # line 1 holds the column names


def media_type(content_type: str) -> str:
    return content_type.split(";", maxsplit=1)[0].strip().lower()


class ImportResult(BulkResult):
    dropped_answers: int = Field(
        default=0,
        description="Cells of columns no mapping declares: not published (they may hold "
        "names), counted in boucle_collector_dropped_answers_total.",
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    rows: list[Prepared]
    unmapped: int  # declared answers whose value did not fit (kept raw)
    dropped: int  # answers of columns no mapping declares (not published)


def _prepare(
    rows: Iterable[dict[str, Cell]],
    *,
    integration: Integration,
    form_id: str,
    site_id: str,
    pseudonymiser: Pseudonymiser | None,
) -> _Prepared:
    """Each row mapped for the site of the URL, with what the mapping left out."""
    form = integration.forms[form_id].model_copy(update={"site_id": site_id})
    for_site = integration.model_copy(update={"forms": {form_id: form}})
    prepared: list[Prepared] = []
    unmapped = dropped = 0
    for line, row in enumerate(rows, FIRST_DATA_LINE):
        try:
            response = row_response(row, form_id=form_id, form=form)
            mapped = map_response(response, integration=for_site, pseudonymiser=pseudonymiser)
            if mapped.site_id != site_id:
                raise MappingError(f"the row names site {mapped.site_id}, not {site_id}")
        except MappingError as exc:
            prepared.append((line, [str(exc)]))
            continue
        unmapped += mapped.unmapped
        dropped += mapped.dropped
        prepared.append((line, mapped.data))
    return _Prepared(prepared, unmapped, dropped)


def read_and_prepare(
    content: bytes,
    content_type: str,
    *,
    max_rows: int,
    integration: Integration,
    form_id: str,
    site_id: str,
    pseudonymiser: Pseudonymiser | None,
) -> _Prepared:
    """Blocking (parsing, mapping, pseudonyms): run in a worker thread."""
    rows = read_table(content, content_type, max_rows=max_rows)
    return _prepare(
        rows,
        integration=integration,
        form_id=form_id,
        site_id=site_id,
        pseudonymiser=pseudonymiser,
    )


def import_router(
    publisher: IntakePublisher,
    gate: Gate,
    *,
    max_rows: int,
    pseudonymiser: Pseudonymiser | None,
) -> APIRouter:
    router = APIRouter(prefix="/v1/imports/networks/{network_id}/sites/{site_id}", tags=["import"])
    body = {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The export: first line column names; one response per row.",
        }
    }
    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "Every row's outcome (line numbers of the file).",
            "model": ImportResult,
        },
        415: {"description": "Not a CSV or XLSX body (e.g. a multipart form), and why."},
        422: {
            "description": "Unreadable file, more rows than max_import_rows (the answer says "
            "the cap), or a form the key does not map."
        },
        **COMMON_RESPONSES,
    }

    @router.post(
        "/survey-responses",
        openapi_extra=body,
        responses=responses,
        response_model=ImportResult,
        summary="Import a CSV or XLSX export of survey responses, answered per row",
        dependencies=[Depends(gate.dependency())],
    )
    async def import_survey_responses(
        network_id: NetworkId,
        site_id: SiteId,
        request: Request,
        form: Annotated[str, Query(description="Form id, as mapped in the integration.")],
    ) -> JSONResponse:
        caller: Caller | None = request.state.caller
        if caller is None:
            gate.refuse(422, "no_mapping", CHANNEL, "file imports need an integrations file")
        integration = caller.integration
        if form not in integration.forms:
            mapped = ", ".join(sorted(integration.forms)) or "none"
            detail = (
                f"form {form!r} is not mapped in integration {integration.id}; mapped: {mapped}"
            )
            gate.refuse(422, "unmappable", CHANNEL, detail)
        content_type = request.headers.get("content-type", "")
        if media_type(content_type) not in FILE_TYPES:
            # A multipart form (or any other wrapping) would otherwise be read as a CSV whose
            # lines are all invalid: refuse it, saying how to send the file.
            gate.refuse(
                415,
                "unreadable_file",
                CHANNEL,
                f"content type {content_type or '(none)'!r} is not a CSV or XLSX export: send "
                f"the file itself as the body, as text/csv or {XLSX_MEDIA_TYPE}",
            )
        content = await request.body()
        try:
            prepared = await asyncio.to_thread(
                read_and_prepare,
                content,
                content_type,
                max_rows=max_rows,
                integration=integration,
                form_id=form,
                site_id=site_id,
                pseudonymiser=pseudonymiser,
            )
        except TooManyRowsError as exc:
            gate.refuse(422, "too_many_items", CHANNEL, str(exc))
        except TableError as exc:
            gate.refuse(422, "unreadable_file", CHANNEL, str(exc))
        intake = Intake(network_id=network_id, site_id=site_id, channel=CHANNEL)
        result = await publish_prepared(publisher, SURVEY_RESPONSE, intake, prepared.rows)
        gate.metrics.mapping_losses(
            CHANNEL,
            integration.id,
            form,
            unmapped=prepared.unmapped,
            dropped=prepared.dropped,
        )
        # Built from validated parts: no second validation of thousands of items.
        answer = ImportResult.model_construct(**dict(result), dropped_answers=prepared.dropped)
        return bulk_response(answer)

    return router
