"""Who may write where, and how often: the check every intake route goes through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.domain.integrations import AccessDeniedError, Caller, Tenancy
from boucle_collector.domain.limits import RateLimiter, retry_after
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.middleware import channel_of

API_KEY_HEADER = APIKeyHeader(
    name="X-Api-Key", auto_error=False, description="API key of an integration."
)
BEARER = HTTPBearer(auto_error=False, description="The same API key, as a bearer token.")


@dataclass(frozen=True)
class Gate:
    """Who may write where, and how often: API keys, tenancy, and the per-key rate limit."""

    integrations: IntegrationsSource
    limiter: RateLimiter
    metrics: CollectorMetrics

    def refuse(
        self, code: int, reason: str, channel: str, detail: str | list[Any], **headers: str
    ) -> NoReturn:
        self.metrics.rejected.labels(reason, channel).inc()
        raise HTTPException(code, detail=detail, headers=headers or None)

    def throttle(self, principal: str, channel: str) -> None:
        wait = self.limiter.acquire(principal)
        if wait > 0:
            self.refuse(
                429,
                "rate_limited",
                channel,
                f"rate limit of {principal} reached; retry later",
                **{"Retry-After": retry_after(wait)},
            )

    def authenticate(self, key: str | None, channel: str) -> Caller:
        """The caller owning ``key``, or 401."""
        if not key:
            self.refuse(
                401,
                "unauthenticated",
                channel,
                "API key missing: send it in X-Api-Key or Authorization: Bearer",
                **{"WWW-Authenticate": "Bearer"},
            )
        caller = self.integrations.current.authenticate(key)
        if caller is None:
            self.refuse(
                401,
                "unauthenticated",
                channel,
                "API key unknown (revoked or mistyped)",
                **{"WWW-Authenticate": "Bearer"},
            )
        return caller

    def dependency(self) -> Callable[..., Awaitable[Caller | None]]:
        async def authorised(
            request: Request,
            api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
            bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        ) -> Caller | None:
            """The caller allowed to write for this network and site (None: open API)."""
            # The endpoint validates the path ids; they are only compared here.
            network_id = str(request.path_params.get("network_id", ""))
            site_id = str(request.path_params.get("site_id", ""))
            channel = channel_of(request.url.path) or "api"
            key = api_key or (bearer.credentials if bearer else None)
            caller: Caller | None = None
            if self.integrations.open:
                principal = f"open/{request.client.host if request.client else 'unknown'}"
            else:
                caller = self.authenticate(key, channel)
                try:
                    Tenancy.authorise(caller, network_id=network_id, site_id=site_id)
                except AccessDeniedError as denied:
                    self.refuse(403, "forbidden", channel, str(denied))
                principal = caller.principal
            self.throttle(principal, channel)
            request.state.caller = caller  # for routes that need the integration
            return caller

        return authorised
