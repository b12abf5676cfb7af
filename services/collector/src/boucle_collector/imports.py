"""File import of survey exports (CSV, XLSX) for providers who collect on paper or spreadsheets.

``POST /v1/imports/networks/{network_id}/sites/{site_id}/survey-responses?form=<form id>``
with the file as the body (``text/csv`` or the XLSX media type), an API key whose
integration maps that form (its ``forms`` entry, as for webhooks; columns are the question
ids). Every row is answered like a bulk line; re-importing a file is safe (rows already
accepted come back as duplicates, and are counted once downstream anyway).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from boucle_collector.adapters.tabular_files import XLSX_TYPES, TableError, read_table
from boucle_collector.api import (
    COMMON_RESPONSES,
    BulkResult,
    Gate,
    NetworkId,
    Prepared,
    SiteId,
    bulk_response,
    publish_prepared,
)
from boucle_collector.domain.intake import SURVEY_RESPONSE, Intake
from boucle_collector.domain.integrations import Caller, Integration
from boucle_collector.domain.mapping import MappingError, map_response
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.tabular import Cell, row_response
from boucle_collector.handlers import IntakeHandler

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


def _prepare(
    rows: list[dict[str, Cell]],
    *,
    integration: Integration,
    form_id: str,
    site_id: str,
    pseudonymiser: Pseudonymiser | None,
) -> tuple[list[Prepared], int]:
    """Each row mapped for the site of the URL; and the count of unmapped answers."""
    form = integration.forms[form_id].model_copy(update={"site_id": site_id})
    for_site = integration.model_copy(update={"forms": {form_id: form}})
    prepared: list[Prepared] = []
    unmapped = 0
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
        prepared.append((line, mapped.data))
    return prepared, unmapped


def import_router(
    handler: IntakeHandler, gate: Gate, *, max_items: int, pseudonymiser: Pseudonymiser | None
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
            "model": BulkResult,
        },
        415: {"description": "Not a CSV or XLSX body (e.g. a multipart form), and why."},
        422: {"description": "Unreadable file, too many rows, or a form the key does not map."},
        **COMMON_RESPONSES,
    }

    @router.post(
        "/survey-responses",
        openapi_extra=body,
        responses=responses,
        response_model=BulkResult,
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
        try:
            rows = read_table(await request.body(), content_type)
        except TableError as exc:
            gate.refuse(422, "unreadable_file", CHANNEL, str(exc))
        if len(rows) > max_items:
            gate.refuse(
                422, "too_many_items", CHANNEL, f"{len(rows)} rows; at most {max_items} per request"
            )
        prepared, unmapped = _prepare(
            rows,
            integration=integration,
            form_id=form,
            site_id=site_id,
            pseudonymiser=pseudonymiser,
        )
        intake = Intake(network_id=network_id, site_id=site_id, channel=CHANNEL)
        result = await publish_prepared(handler, SURVEY_RESPONSE, intake, prepared)
        if unmapped:
            gate.metrics.unmapped.labels(CHANNEL, integration.id).inc(unmapped)
        return bulk_response(result)

    return router
