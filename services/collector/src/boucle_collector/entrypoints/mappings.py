"""Form mappings managed through the API, validated on write, with optimistic concurrency.

``/v1/networks/{network_id}/integrations/{integration_id}/mappings[/{form_id}]``. Only an
API key whose integration has ``"manage_mappings": true`` in the integrations file, for the
integrations of its own network. A write names the revision it replaces (``If-Match:
"<revision>"`` or ``?expected_revision=``; none = create): a stale one gets 409 with the
stored revision. The effective mapping of a form is the API's if any, else the file's.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from boucle_collector.adapters.mapping_cache import ManagedMappings
from boucle_collector.domain.integrations import FormMapping, Integration
from boucle_collector.domain.mapping_revisions import (
    InvalidMappingError,
    StaleRevisionError,
    StoredMapping,
    checked_mapping,
)
from boucle_collector.entrypoints.gate import API_KEY_HEADER, BEARER, Gate
from boucle_collector.entrypoints.path_params import ID_PATTERN, NetworkId

CHANNEL = "mappings"
MAX_REVISION = 2**63 - 1  # a revision is stored as a BSON int64
IntegrationId = Annotated[str, Path(pattern=ID_PATTERN, description="Integration of the file.")]
FormId = Annotated[
    str, Path(min_length=1, max_length=200, description="The platform's form (survey) id.")
]
Revision = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_REVISION,
        description='Revision replaced or deleted (or header If-Match: "<revision>").',
    ),
]


class MappingView(BaseModel):
    form_id: str
    source: Literal["api", "file"]
    revision: int | None = None  # None: from the integrations file
    updated_at: datetime | None = None
    updated_by: str | None = None
    mapping: FormMapping


class MappingList(BaseModel):
    integration_id: str
    items: list[MappingView]


def _api_view(stored: StoredMapping) -> MappingView:
    return MappingView(
        form_id=stored.form_id,
        source="api",
        revision=stored.revision,
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
        mapping=stored.mapping,
    )


RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown one."},
    403: {"description": "The key's integration may not manage mappings of this network."},
    404: {"description": "No such integration in this network (or no such mapping)."},
    429: {"description": "Rate limit of the key reached; see Retry-After."},
}


@dataclass(frozen=True)
class MappingAdmin:
    """Who may manage mappings, and the writes themselves."""

    gate: Gate
    managed: ManagedMappings

    async def manager(
        self,
        request: Request,
        api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    ) -> Integration:
        """The integration whose mappings the caller may manage (path's network and id)."""
        gate = self.gate
        network_id = str(request.path_params.get("network_id", ""))
        integration_id = str(request.path_params.get("integration_id", ""))
        if gate.integrations.open:
            gate.refuse(403, "forbidden", CHANNEL, "managing mappings needs an integrations file")
        caller = gate.authenticate(api_key or (bearer.credentials if bearer else None), CHANNEL)
        own = caller.integration
        if not own.manage_mappings or own.network_id != network_id:
            gate.refuse(
                403,
                "forbidden",
                CHANNEL,
                f"API key {caller.key_id} of integration {own.id} may not manage mappings of "
                f"network {network_id} (needs manage_mappings in network {own.network_id})",
            )
        gate.throttle(caller.principal, CHANNEL)
        request.state.caller = caller
        integration = gate.integrations.from_file.integrations.get(integration_id)
        if integration is None or integration.network_id != network_id:
            gate.refuse(
                404,
                "unknown_integration",
                CHANNEL,
                f"no integration {integration_id} in network {network_id}",
            )
        return integration

    def revision(self, if_match: str | None, expected_revision: int | None) -> int | None:
        if expected_revision is not None:
            return expected_revision
        if if_match is None:
            return None
        tag = if_match.strip().removeprefix("W/").strip('"')
        if not tag.isdigit() or not 1 <= int(tag) <= MAX_REVISION:
            self.gate.refuse(
                422, "invalid", CHANNEL, f'header If-Match must be "<revision>", not {if_match!r}'
            )
        return int(tag)

    async def put(
        self,
        integration: Integration,
        form_id: str,
        body: FormMapping,
        *,
        expected: int | None,
        by: str,
    ) -> StoredMapping:
        try:
            mapping = checked_mapping(integration, form_id, body)
        except InvalidMappingError as exc:
            self.gate.refuse(
                422,
                "invalid",
                CHANNEL,
                [{"loc": ["body", *loc], "msg": msg} for loc, msg in exc.errors],
            )
        try:
            stored = await self.managed.store.put(
                network_id=integration.network_id,
                integration_id=integration.id,
                form_id=form_id,
                mapping=mapping,
                expected_revision=expected,
                updated_at=datetime.now(UTC),
                updated_by=by,
            )
        except StaleRevisionError as exc:
            self.gate.refuse(409, "stale_revision", CHANNEL, str(exc))
        self.managed.remember(stored)
        return stored

    async def delete(self, integration: Integration, form_id: str, expected: int | None) -> None:
        try:
            deleted = await self.managed.store.delete(
                network_id=integration.network_id,
                integration_id=integration.id,
                form_id=form_id,
                expected_revision=expected,
            )
        except StaleRevisionError as exc:
            self.gate.refuse(409, "stale_revision", CHANNEL, str(exc))
        if not deleted:
            self.gate.refuse(
                404, "no_mapping", CHANNEL, f"form {form_id} has no mapping managed by the API"
            )
        self.managed.forget((integration.network_id, integration.id, form_id))


def mappings_router(gate: Gate, managed: ManagedMappings) -> APIRouter:
    router = APIRouter(
        prefix="/v1/networks/{network_id}/integrations/{integration_id}/mappings",
        tags=["mappings"],
    )
    admin = MappingAdmin(gate, managed)
    managed_integration = Annotated[Integration, Depends(admin.manager)]
    if_match_header = Annotated[str | None, Header(alias="If-Match")]

    @router.get("", responses=RESPONSES, summary="Effective mappings of an integration")
    async def list_mappings(
        *, network_id: NetworkId, integration_id: IntegrationId, integration: managed_integration
    ) -> MappingList:
        """Every form mapped, by the API (with its revision) or else by the file."""
        items = {
            item.form_id: _api_view(item)
            for item in await managed.store.all()
            if item.network_id == network_id and item.integration_id == integration_id
        }
        for form_id, form in integration.forms.items():
            items.setdefault(form_id, MappingView(form_id=form_id, source="file", mapping=form))
        return MappingList(integration_id=integration_id, items=[items[k] for k in sorted(items)])

    @router.get("/{form_id}", responses=RESPONSES, summary="Effective mapping of a form")
    async def get_mapping(
        *,
        network_id: NetworkId,
        integration_id: IntegrationId,
        form_id: FormId,
        integration: managed_integration,
        response: Response,
    ) -> MappingView:
        """The API's mapping (``ETag`` = its revision) if any, else the file's."""
        stored = await managed.store.get(
            network_id=network_id, integration_id=integration_id, form_id=form_id
        )
        if stored is not None:
            response.headers["ETag"] = f'"{stored.revision}"'
            return _api_view(stored)
        if form_id in integration.forms:
            return MappingView(form_id=form_id, source="file", mapping=integration.forms[form_id])
        gate.refuse(404, "no_mapping", CHANNEL, f"form {form_id} of {integration_id} is not mapped")

    @router.put(
        "/{form_id}",
        responses={
            **RESPONSES,
            409: {"description": "Stale revision (or creation of an existing mapping)."},
            422: {"description": "Invalid mapping; the errors name the field."},
        },
        summary="Create or replace the mapping of a form",
    )
    async def put_mapping(
        *,
        network_id: NetworkId,
        integration_id: IntegrationId,
        form_id: FormId,
        body: FormMapping,
        integration: managed_integration,
        request: Request,
        response: Response,
        expected_revision: Revision = None,
        if_match: if_match_header = None,
    ) -> MappingView:
        """Validated as the file's forms are; 201 when created, 200 when replaced."""
        expected = admin.revision(if_match, expected_revision)
        stored = await admin.put(
            integration, form_id, body, expected=expected, by=request.state.caller.principal
        )
        response.status_code = status.HTTP_201_CREATED if expected is None else status.HTTP_200_OK
        response.headers["ETag"] = f'"{stored.revision}"'
        return _api_view(stored)

    @router.delete(
        "/{form_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            **RESPONSES,
            409: {"description": "Stale revision."},
            422: {"description": "Invalid revision or If-Match header; the reason is given."},
        },
        summary="Delete the API's mapping of a form (the file's, if any, applies again)",
    )
    async def delete_mapping(
        *,
        network_id: NetworkId,
        integration_id: IntegrationId,
        form_id: FormId,
        integration: managed_integration,
        expected_revision: Revision = None,
        if_match: if_match_header = None,
    ) -> Response:
        """Unconditional without a revision; else only if still at that revision."""
        await admin.delete(integration, form_id, admin.revision(if_match, expected_revision))
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
