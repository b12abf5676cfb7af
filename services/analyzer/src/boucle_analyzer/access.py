"""Who may read which figures, degradations and comment stems: the caller's rights narrow
every query.

The roles are ``boucle_runtime.auth``'s, as on the actions and reporter APIs:

* **quality lead**: every scope of their network.
* **auditor**: network-wide scopes and the sites of their sample, for periods (and
  degradations opened in weeks) starting within their audit period.
* **site manager**: the scopes of their sites only. A network-wide scope carries other
  sites' answers, and so does a trainer's (a trainer scope spans every site the trainer
  works at): asking for one (``level=network`` or ``trainer``, a ``trainer_id``, emerging
  terms without a site) is refused (403); listings leave them out.
* another network, or an ``integration`` token: 403.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from boucle_analyzer.domain.ports import FigureQuery
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_runtime.auth import AccessDeniedError, Principal, Role

NETWORK_WIDE_LEVELS = (ScopeLevel.NETWORK, ScopeLevel.TRAINER)


def figure_query(principal: Principal, query: FigureQuery) -> FigureQuery:
    """``query`` narrowed to what ``principal`` may read; AccessDeniedError (403) if nothing."""
    principal.require_network(query.network_id)
    if query.site_id is not None:
        principal.require_site(query.site_id)
    elif not principal.all_sites:
        network_wide = principal.role is not Role.SITE_MANAGER
        if not network_wide and (query.level in NETWORK_WIDE_LEVELS or query.trainer_id):
            raise AccessDeniedError(
                "network-wide figures (the network, trainers across sites) need a quality "
                "lead or an auditor"
            )
        query = dataclasses.replace(query, sites=principal.site_ids, network_wide=network_wide)
    start, end = within_period(principal, query.start, query.end)
    return dataclasses.replace(query, start=start, end=end)


def within_period(
    principal: Principal, start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` cut to an auditor's period (unchanged for the other roles)."""
    if principal.period_start is not None:
        start = principal.period_start if start is None else max(start, principal.period_start)
    if principal.period_end is not None:
        end = principal.period_end if end is None else min(end, principal.period_end)
    return start, end


def may_read(principal: Principal, scope: Scope, at: datetime) -> bool:
    """Whether ``principal`` may read something of ``scope`` dated ``at`` (same network)."""
    try:
        principal.require_site(scope.site_id)
    except AccessDeniedError:
        return False
    return principal.in_period(at)


def require_terms_scope(principal: Principal, network_id: str, site_id: str | None) -> None:
    """Emerging terms of a site, or of the whole network when ``site_id`` is None."""
    principal.require_network(network_id)
    principal.require_site(site_id)
