"""Reporter HTTP API: documents, builds of the dossier de preuves, verification, dashboard.

Access control is a dependency passed in by the composition root (``dependencies``), so
that the shared JWT roles can guard every route without the routes knowing them.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, params
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

from boucle_reporter.access import AccessDependency, Narrow
from boucle_reporter.adapters import render
from boucle_reporter.adapters.xlsx import workbook
from boucle_reporter.builds import BuildService, request_of
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.figures import report_figures, site_risks
from boucle_reporter.domain.ports import Build, EvidenceLog, ReadModel
from boucle_reporter.domain.read_model import PackData
from boucle_reporter.domain.readiness import evidence_gaps, readiness
from boucle_reporter.domain.tracking import to_csv
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.pack import TRACKING_COLLECTIONS, load_pack, tracking_sheet, tracking_table
from boucle_runtime.auth import AccessDeniedError

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
EARLIEST = date(2000, 1, 1)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN)]
Language = Literal["fr", "en"]
Sites = Annotated[
    list[Annotated[str, Field(pattern=ID_PATTERN)]],
    Query(description="Sites of the scope (an auditor's sample); all sites when absent."),
]


class BuildBody(BaseModel):
    start: date = Field(alias="from", description="First day of the period.")
    end: date = Field(alias="to", description="Day after the period (exclusive).")
    sites: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(
        default=[], max_length=5_000, description="Sites of the scope; all sites when empty."
    )
    language: Language = "fr"


class BuildState(BaseModel):
    build_id: str
    network_id: str
    status: Literal["queued", "running", "done", "failed"]
    period: dict[str, str]
    sites: list[str]
    language: str
    progress: float
    step: str
    requested_at: datetime
    finished_at: datetime | None
    error: str | None
    sha256: str | None
    size: int | None
    files: dict[str, dict[str, Any]]
    download: str | None


def _state(build: Build) -> BuildState:
    download = (
        f"/v1/networks/{build.network_id}/builds/{build.build_id}/dossier.zip"
        if build.status == "done"
        else None
    )
    values = asdict(build)
    values.pop("start"), values.pop("end"), values.pop("archive")
    return BuildState(**values, period={"from": build.start, "to": build.end}, download=download)


def network_wide(network_id: str) -> BuildRequest:
    """All sites, all time: what a network-wide route narrows to check the caller."""
    return _request(network_id, None, None, [], "fr", default_months=None)


def _request(
    network_id: str,
    start: date | None,
    end: date | None,
    sites: Sequence[str],
    language: str,
    *,
    default_months: int | None,
) -> BuildRequest:
    today = datetime.now(UTC).date()
    end = end or today + timedelta(days=1)
    if start is None:
        start = EARLIEST
        if default_months:
            index = end.year * 12 + end.month - 1 - default_months
            start = date(index // 12, index % 12 + 1, 1)
    if end <= start:
        raise HTTPException(422, detail=[_after_from("query")])
    return BuildRequest(
        network_id=network_id, start=start, end=end, sites=tuple(sites), language=language
    )


def _after_from(location: str) -> dict[str, Any]:
    """A 422 item shaped like FastAPI's own (loc, msg, type), as the OpenAPI document says."""
    return {"loc": [location, "to"], "msg": "to must be after from", "type": "value_error"}


def _visible(narrow: Narrow, build: Build) -> bool:
    """A build is visible to whoever may see all of its scope and period."""
    request = request_of(build)
    try:
        return narrow(request) == request
    except AccessDeniedError:
        return False


def reports_router(
    *,
    read_model: ReadModel,
    evidence: EvidenceLog,
    builds: BuildService,
    metrics: ReporterMetrics,
    access: AccessDependency,
    dependencies: Sequence[params.Depends] = (),
    heads_signed: bool = False,
) -> APIRouter:
    """``access`` narrows every request to the caller's rights (see ``access.py``);
    ``heads_signed``: whether a key signs chain heads (if not, a readiness gap)."""
    router = APIRouter(
        prefix="/v1/networks/{network_id}", tags=["reports"], dependencies=list(dependencies)
    )
    Narrow_t = Annotated[Narrow, Depends(access)]  # noqa: N806 - a type, local to the router

    def scope(default_months: int | None) -> Callable[..., Awaitable[BuildRequest]]:
        """The request's scope and period from the query, narrowed to the caller's rights."""

        async def requested(
            network_id: NetworkId,
            narrow: Narrow_t,
            *,
            site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
            sites: Sites = [],  # noqa: B006 - FastAPI reads the default, never mutates it
            start: Annotated[date | None, Query(alias="from")] = None,
            end: Annotated[date | None, Query(alias="to")] = None,
            lang: Language = "fr",
        ) -> BuildRequest:
            scope = [*sites, *([site_id] if site_id else [])]
            return narrow(
                _request(network_id, start, end, scope, lang, default_months=default_months)
            )

        return requested

    AllTime = Annotated[BuildRequest, Depends(scope(None))]  # noqa: N806 - tracking table
    LastYear = Annotated[BuildRequest, Depends(scope(12))]  # noqa: N806 - readiness, dashboard

    async def load_tracking(request: BuildRequest) -> PackData:
        """Only what the tracking table is made of (not the counts, the biggest part)."""
        now = datetime.now(UTC)
        return await load_pack(read_model, request, now, collections=TRACKING_COLLECTIONS)

    @router.get(
        "/tracking-table.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}, "description": "CSV (;) with BOM."}},
    )
    async def tracking_table_csv(
        network_id: NetworkId,
        request: AllTime,
    ) -> Response:
        """Tableau de suivi des mesures d'amélioration: analyses, cases and actions."""
        rows = tracking_table(await load_tracking(request))
        text = to_csv(rows, request.language)
        metrics.exports.labels("tracking_table_csv").inc()
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="tableau-de-suivi-{network_id}.csv"'
            },
        )

    @router.get(
        "/tracking-table.xlsx",
        response_class=Response,
        responses={200: {"content": {XLSX: {}}, "description": "The tracking table, XLSX."}},
    )
    async def tracking_table_xlsx(
        network_id: NetworkId,
        request: AllTime,
    ) -> Response:
        """The tracking table as a spreadsheet: frozen header, filters, dates as dates."""
        rows = tracking_table(await load_tracking(request))
        content = workbook([tracking_sheet(rows, request.language)])
        metrics.exports.labels("tracking_table_xlsx").inc()
        return Response(
            content,
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="tableau-de-suivi-{network_id}.xlsx"'
            },
        )

    @router.get("/readiness")
    async def readiness_check(
        network_id: NetworkId,
        request: LastYear,
    ) -> list[dict[str, Any]]:
        """What an auditor would flag (default: the last 12 months)."""
        data = await load_pack(read_model, request, datetime.now(UTC))
        return [
            gap.report(request.language)
            for gap in [*readiness(data), *evidence_gaps(network_id, signed=heads_signed)]
        ]

    @router.get("/evidence/verification")
    async def verify_evidence(network_id: NetworkId, narrow: Narrow_t) -> dict[str, Any]:
        """Walk the network's hash-chained evidence log; name the first broken link."""
        narrow(network_wide(network_id))
        return (await evidence.verify(network_id=network_id)).report()

    @router.post("/builds", status_code=202)
    async def request_build(network_id: NetworkId, narrow: Narrow_t, body: BuildBody) -> BuildState:
        """Build the dossier de preuves of a scope and period, in the background."""
        if body.end <= body.start:
            raise HTTPException(422, detail=[_after_from("body")])
        request = BuildRequest(
            network_id=network_id,
            start=body.start,
            end=body.end,
            sites=tuple(body.sites),
            language=body.language,
        )
        return _state(await builds.request(narrow(request)))

    @router.get("/builds")
    async def recent_builds(network_id: NetworkId, narrow: Narrow_t) -> list[BuildState]:
        narrow(network_wide(network_id))
        return [
            _state(b)
            for b in await builds.store.recent(network_id=network_id)
            if _visible(narrow, b)
        ]

    async def _build(network_id: str, build_id: str, narrow: Narrow) -> Build:
        build = await builds.store.get(build_id)
        if build is None or build.network_id != network_id or not _visible(narrow, build):
            raise HTTPException(404, detail=f"no build {build_id} for network {network_id}")
        return build

    @router.get("/builds/{build_id}")
    async def build_state(
        network_id: NetworkId,
        narrow: Narrow_t,
        build_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    ) -> BuildState:
        return _state(await _build(network_id, build_id, narrow))

    @router.get(
        "/builds/{build_id}/dossier.zip",
        response_class=FileResponse,
        responses={200: {"content": {"application/zip": {}}}, 409: {"description": "Not ready."}},
    )
    async def download_build(
        network_id: NetworkId,
        narrow: Narrow_t,
        build_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    ) -> FileResponse:
        build = await _build(network_id, build_id, narrow)
        path = builds.archive_path(build)
        if build.status != "done" or not path.exists():
            raise HTTPException(409, detail=f"build {build_id} is {build.status}, not done")
        return FileResponse(
            path,
            media_type="application/zip",
            # the period's first and last days, as the manifest and the report name them
            filename=f"dossier-de-preuves-{network_id}-{build.start}-{_last_day(build.end)}.zip",
        )

    @router.get("/dashboard", response_class=HTMLResponse)
    async def dashboard(
        network_id: NetworkId,
        request: LastYear,
    ) -> HTMLResponse:
        """The quality lead's dashboard: sites by risk, degradations, actions, readiness."""
        now = datetime.now(UTC)
        data = await load_pack(read_model, request, now)
        html = render.dashboard_html(
            data, report_figures(data, now.date()), site_risks(data, now), readiness(data)
        )
        return HTMLResponse(html)

    return router


def _last_day(end: str) -> str:
    """The last day of a period whose ``end`` (ISO date) is exclusive."""
    return date.fromordinal(date.fromisoformat(end).toordinal() - 1).isoformat()
