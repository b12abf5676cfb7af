"""Bulk intake: NDJSON, one fact per line, each line answered on its own outcome.

One route per kind of the native API's table; file imports answer their rows the same way
(``publish_prepared``, ``bulk_response``).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from boucle_collector.domain.intake import Intake, IntakeKind
from boucle_collector.entrypoints.errors import (
    COMMON_RESPONSES,
    OUTCOME_UNKNOWN,
    RETRY_AFTER_SECONDS,
)
from boucle_collector.entrypoints.gate import Gate
from boucle_collector.entrypoints.native import INTAKE_ROUTES
from boucle_collector.entrypoints.path_params import NetworkId, SiteId
from boucle_collector.intake_publisher import IntakePublisher, IntakeUnavailableError, Outcome
from boucle_contracts.common import ContractModel

IN_FLIGHT = 64  # publications in flight at once for one request (see _accept_all)


class BulkItem(BaseModel):
    STATUSES: ClassVar[tuple[str, ...]] = ("accepted", "duplicate", "invalid", "unknown")

    line: int
    status: str = Field(
        description="accepted, duplicate, invalid (errors name the field) or unknown: Kafka "
        "did not confirm, the line may or may not be on the topic; re-sending it is safe "
        "(same event id)."
    )
    event_id: str | None = None
    errors: list[str] = []


class BulkResult(BaseModel):
    accepted: int
    duplicates: int
    invalid: int
    unknown: int = Field(description="Lines whose outcome is unknown (Kafka did not confirm).")
    unavailable: int = Field(
        description="Deprecated: the same number as `unknown`, under its former name."
    )
    detail: str | None = Field(
        default=None, description="Set when some outcome is unknown: what that means."
    )
    items: list[BulkItem]


def _errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()]


Prepared = tuple[int, ContractModel | list[str]]  # line number, data or what is wrong with it


async def publish_prepared(
    publisher: IntakePublisher, kind: IntakeKind[Any], intake: Intake, prepared: list[Prepared]
) -> BulkResult:
    """Every valid item redacted (in batches, off the event loop with the name model), then
    published at once, each answered on its own outcome.

    The sends are concurrent so the producer batches them: awaiting each acknowledgement
    before the next send made a bulk request cost one broker round trip per line (the
    collector bench measured 11 % of raw aiokafka that way). Duplicates within the request
    are still answered as such: the second waits for the first's publication.
    """
    valid = [(number, data) for number, data in prepared if not isinstance(data, list)]
    redacted = await publisher.redacted(kind, [data for _, data in valid])
    outcomes = await _accept_all(publisher, kind, intake, redacted)
    published = {number: outcome for (number, _), outcome in zip(valid, outcomes, strict=True)}
    items: list[BulkItem] = []
    for number, data in prepared:
        if isinstance(data, list):
            publisher.metrics.rejected.labels("invalid", intake.channel).inc()
            items.append(BulkItem(line=number, status="invalid", errors=data))
            continue
        outcome = published[number]
        if isinstance(outcome, IntakeUnavailableError):
            items.append(BulkItem(line=number, status="unknown", event_id=outcome.event_id))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            items.append(BulkItem(line=number, status=outcome.status, event_id=outcome.event.id))
    count = {s: sum(1 for i in items if i.status == s) for s in BulkItem.STATUSES}
    return BulkResult(
        accepted=count["accepted"],
        duplicates=count["duplicate"],
        invalid=count["invalid"],
        unknown=count["unknown"],
        unavailable=count["unknown"],
        detail=OUTCOME_UNKNOWN if count["unknown"] else None,
        items=items,
    )


async def _accept_all(
    publisher: IntakePublisher, kind: IntakeKind[Any], intake: Intake, data: list[Any]
) -> list[Outcome | BaseException]:
    """Every item published by ``IN_FLIGHT`` workers, each outcome at its item's index.

    Many publications in flight let the producer batch them (awaiting each acknowledgement
    before the next send cost one broker round trip per line: 11 % of raw aiokafka in the
    collector bench). But not all at once: thousands of tasks ready together make one turn
    of the event loop last for as long as they take (envelopes, logs), which stalls every
    other request and the health probes; a bounded window keeps each turn to a few ms.
    """
    outcomes: list[Outcome | BaseException | None] = [None] * len(data)
    pending = iter(enumerate(data))

    async def worker() -> None:
        for index, item in pending:
            try:
                outcomes[index] = await publisher.accept(kind, intake, item, redacted=True)
            except Exception as exc:  # answered per line by the caller
                outcomes[index] = exc

    await asyncio.gather(*(worker() for _ in range(min(IN_FLIGHT, len(data)))))
    return [outcome for outcome in outcomes if outcome is not None]


def _parsed_lines(kind: IntakeKind[Any], lines: list[tuple[int, bytes]]) -> list[Prepared]:
    prepared: list[Prepared] = []
    for number, line in lines:
        try:
            data = kind.data_class.model_validate_json(line)
        except ValidationError as exc:
            prepared.append((number, _errors(exc)))
            continue
        refused = kind.identity_errors(data)
        prepared.append((number, [f"{name}: {why}" for name, why in refused] if refused else data))
    return prepared


def bulk_response(result: BulkResult) -> JSONResponse:
    """200 with every item's outcome; 503 (and Retry-After) when some outcome is unknown."""
    if result.unknown:
        return JSONResponse(
            result.model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return JSONResponse(result.model_dump())


def bulk_router(publisher: IntakePublisher, gate: Gate, *, max_items: int) -> APIRouter:
    router = APIRouter(prefix="/v1/bulk/networks/{network_id}/sites/{site_id}", tags=["bulk"])
    ndjson = {
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "description": "One JSON object per line: the event's data model.",
        }
    }
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "Every line's outcome.", "model": BulkResult},
        422: {"description": "Too many lines, or not UTF-8."},
    }
    responses |= COMMON_RESPONSES

    def endpoint(slug: str, kind: IntakeKind[Any]) -> None:
        @router.post(
            f"/{slug}",
            openapi_extra=ndjson,
            responses=responses,
            response_model=BulkResult,
            name=f"bulk_{slug.replace('-', '_')}",
            summary=f"Bulk {slug} (NDJSON), answered per line",
            dependencies=[Depends(gate.dependency())],
        )
        async def post_bulk(
            network_id: NetworkId, site_id: SiteId, request: Request
        ) -> JSONResponse:
            body = await request.body()
            lines = [(n, line) for n, line in enumerate(body.splitlines(), 1) if line.strip()]
            if len(lines) > max_items:
                gate.refuse(
                    422,
                    "too_many_items",
                    "bulk",
                    f"{len(lines)} lines; at most {max_items} per request",
                )
            intake = Intake(network_id=network_id, site_id=site_id, channel="bulk")
            prepared = _parsed_lines(kind, lines)
            return bulk_response(await publish_prepared(publisher, kind, intake, prepared))

    for route in INTAKE_ROUTES:
        endpoint(route.slug, route.kind)
    return router
