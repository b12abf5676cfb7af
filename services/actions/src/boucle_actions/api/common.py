"""What every router shares: id and paging parameters, pages, the caller as an actor, and
the read checks on what a caller may see."""

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from boucle_actions.domain.ports import Query as Listing
from boucle_runtime.auth import AccessDeniedError, Principal, Role

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN)]
EntityId = Annotated[str, Path(pattern=ID_PATTERN)]
OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN)]
# Bounded: MongoDB's skip takes at most a 64-bit int, and a larger one was a 500.
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
# When an act happened, for one recorded after the fact (default: now). Not in the future
# (5 minutes of clock skew aside) nor before the item's last recorded act: 422.
OccurredAt = Annotated[
    AwareDatetime | None,
    Field(
        description=(
            "When it happened, if recorded after the fact (default: now); with a time zone. "
            "Not in the future (5 min of clock skew allowed) nor before the last act "
            "recorded on the item: else 422."
        ),
    ),
]
T = TypeVar("T")
CurrentPrincipal = Callable[..., Awaitable[Principal]]


class Searchable(Protocol[T]):
    async def search(self, query: Listing) -> tuple[list[T], int]: ...


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


_ACTOR = re.compile(ID_PATTERN)


def actor_of(principal: Principal) -> str:
    """The token's subject as an event actor id (hashed when it is not id-safe, e.g. a|b)."""
    if _ACTOR.match(principal.subject):
        return principal.subject
    return f"sub-{hashlib.sha256(principal.subject.encode()).hexdigest()[:24]}"


async def paged(
    store: Searchable[T],
    principal: Principal,
    network_id: str,
    *,
    site_id: str | None,
    offset: int,
    limit: int,
    **filters: Any,
) -> Page[T]:
    """One page of a listing limited to what the caller may see: sites, the auditor's period."""
    principal.require_network(network_id)
    query = Listing(
        network_id=network_id,
        site_ids=principal.site_filter(site_id),
        include_network_wide=site_id is None and principal.role is not Role.SITE_MANAGER,
        recorded_from=principal.period_start,
        recorded_to=principal.period_end,
        offset=offset,
        limit=limit,
        **filters,
    )
    items, total = await store.search(query)
    return Page(items=items, total=total, offset=offset, limit=limit)


def readable(principal: Principal, site_id: str | None, recorded: datetime) -> None:
    principal.require_site(site_id)
    if not principal.in_period(recorded):
        raise AccessDeniedError("outside the period this token may audit")


def may_read(principal: Principal, site_id: str | None) -> bool:
    try:
        principal.require_site(site_id)
    except AccessDeniedError:
        return False
    return True
