"""Who may build what: a caller's rights narrow every request to their network and scope.

The quality lead sees every site of the network; a site manager, their sites; an auditor,
their sample of sites over their period, read-only (a dossier is a reading of evidence).
"""

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends

from boucle_reporter.domain.build_request import BuildRequest
from boucle_runtime.auth import AccessDeniedError, Principal, Role

Narrow = Callable[[BuildRequest], BuildRequest]
AccessDependency = Callable[..., Awaitable[Narrow]]


def _day_after(moment: datetime) -> date:
    """First day not covered by a period ending (exclusive) at ``moment``."""
    moment = moment.astimezone(UTC)
    return moment.date() if moment.time() == time(0) else moment.date() + timedelta(days=1)


def narrowed(principal: Principal, request: BuildRequest) -> BuildRequest:
    """The part of ``request`` the principal may see; AccessDeniedError (403) if none."""
    principal.require_network(request.network_id)
    sites = request.sites
    if not principal.all_sites:
        for site in sites:
            principal.require_site(site)
        sites = sites or tuple(sorted(principal.site_ids))
    start, end = request.start, request.end
    if principal.role is Role.AUDITOR and principal.period_start and principal.period_end:
        start = max(start, principal.period_start.astimezone(UTC).date())
        end = min(end, _day_after(principal.period_end))
        if end <= start:
            raise AccessDeniedError("the period asked for is outside this auditor's period")
    return dataclasses.replace(request, sites=sites, start=start, end=end)


async def open_access() -> Narrow:
    """No narrowing: every request as asked. For tests of the routes only; the service
    itself always uses :func:`principal_access`."""
    return lambda request: request


def principal_access(current: Callable[..., Awaitable[Principal]]) -> AccessDependency:
    """A dependency narrowing requests to the verified caller's rights."""

    async def access(principal: Annotated[Principal, Depends(current)]) -> Narrow:
        return lambda request: narrowed(principal, request)

    return access


# Network administration (erasure of a data subject's evidence): the quality lead only.
RequireAdmin = Callable[[str], None]
AdminDependency = Callable[..., Awaitable[RequireAdmin]]


async def no_admin() -> RequireAdmin:
    """Nobody administers: the default of a router not given an admin dependency."""

    def refuse(_: str) -> None:
        raise AccessDeniedError("no administrator is configured for this API")

    return refuse


async def open_admin() -> RequireAdmin:
    """Everybody administers. For tests of the routes only."""
    return lambda _: None


def principal_admin(current: Callable[..., Awaitable[Principal]]) -> AdminDependency:
    """A dependency admitting the verified quality lead of the network, nobody else."""

    async def admin(principal: Annotated[Principal, Depends(current)]) -> RequireAdmin:
        def require(network_id: str) -> None:
            principal.require_network(network_id)
            principal.require_role(Role.QUALITY_LEAD)

        return require

    return admin
