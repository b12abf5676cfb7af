"""Access control for Boucle's HTTP APIs: OIDC-compatible bearer JWTs → a principal.

A token is verified against the configured issuer and audience, signed RS256 or ES256 by a
key found either in a JWKS document (``auth_jwks_url``, fetched again when an unknown ``kid``
shows up, so keys rotate without a restart) or given directly (``auth_public_key``, PEM).
Its claims become a :class:`Principal`:

``network_id``
    the training network the bearer belongs to; no request ever reaches another one.
``role``
    ``quality_lead`` (every site of the network, read and write), ``site_manager`` (the sites
    of ``site_ids``, read and write), ``auditor`` (read-only: the sample of sites in
    ``site_ids`` over ``period_start``..``period_end``), ``integration`` (machine clients:
    none of the human APIs).
``site_ids``, ``period_start``, ``period_end``
    as above (ISO 8601 dates or datetimes; a date-only ``period_end`` includes that day).

Services use it as a FastAPI dependency (:func:`principal_dependency`); a missing, malformed,
expired or wrongly signed token is **401** (with a fixed ``WWW-Authenticate: Bearer …``
challenge), a valid token
without the right to do what is asked is **403**, both with the reason in ``detail``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

SUPPORTED_ALGORITHMS = ("RS256", "ES256")


class AuthSettings(BaseSettings):
    """Mixin for services with an authenticated HTTP API (env prefix of the service)."""

    auth_issuer: str = Field(
        default="https://auth.boucle.local/", description="Expected `iss` of every token."
    )
    auth_audience: str = Field(default="boucle", description="Expected `aud` of every token.")
    auth_jwks_url: str | None = Field(
        default=None,
        description="JWKS document of the identity provider (keys chosen by `kid`).",
    )
    auth_public_key: str | None = Field(
        default=None,
        description="PEM public key to verify tokens with, instead of (or besides) a JWKS URL.",
    )
    auth_algorithms: str = Field(
        default="RS256,ES256",
        description="Accepted signature algorithms, comma-separated (RS256, ES256).",
    )
    auth_leeway_seconds: float = Field(
        default=60.0, ge=0, description="Clock skew tolerated on exp, nbf and iat."
    )
    auth_jwks_cache_seconds: int = Field(
        default=300, gt=0, description="How long fetched JWKS keys are kept."
    )
    auth_jwks_refresh_cooldown_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Least time between two JWKS fetches forced by an unknown `kid`.",
    )

    @field_validator("auth_jwks_url", "auth_public_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (``${VAR:-}`` in compose) means "not configured"."""
        return None if isinstance(value, str) and not value.strip() else value


class Role(StrEnum):
    QUALITY_LEAD = "quality_lead"
    # The organisation's direction: reads the whole network and validates or sends back
    # improvement plans (the validation indicator 32's guide asks for).
    DIRECTION = "direction"
    SITE_MANAGER = "site_manager"
    AUDITOR = "auditor"
    INTEGRATION = "integration"


class AccessDeniedError(Exception):
    """The caller is known but may not do this (HTTP 403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidTokenError(Exception):
    """No usable identity (HTTP 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and what of their network they may see and change."""

    subject: str
    network_id: str
    role: Role
    site_ids: frozenset[str] = field(default_factory=frozenset)
    period_start: datetime | None = None
    period_end: datetime | None = None

    @property
    def all_sites(self) -> bool:
        return self.role in (Role.QUALITY_LEAD, Role.DIRECTION)

    @property
    def may_validate(self) -> bool:
        """Whether this caller may validate or send back an improvement plan."""
        return self.role in (Role.QUALITY_LEAD, Role.DIRECTION)

    @property
    def read_only(self) -> bool:
        return self.role is Role.AUDITOR

    def require_network(self, network_id: str) -> None:
        """Refuse any other network, and machine tokens on the human APIs."""
        if self.role is Role.INTEGRATION:
            raise AccessDeniedError("integration tokens have no access to this API")
        if network_id != self.network_id:
            raise AccessDeniedError(
                f"this token is for network {self.network_id!r}, not {network_id!r}"
            )

    def site_filter(self, site_id: str | None = None) -> frozenset[str] | None:
        """Sites a listing may show: None means all of the network.

        ``site_id`` (a filter asked for) must be one the caller may see.
        """
        if site_id is not None:
            self.require_site(site_id)
            return frozenset({site_id})
        return None if self.all_sites else self.site_ids

    def require_site(self, site_id: str | None) -> None:
        """Read access to something of ``site_id`` (None: network-wide)."""
        if self.all_sites:
            return
        if site_id is None:
            if self.role is Role.AUDITOR:
                return  # network-wide evidence is part of any audit sample
            raise AccessDeniedError("only a quality lead may act on network-wide items")
        if site_id not in self.site_ids:
            raise AccessDeniedError(f"site {site_id!r} is not among this token's sites")

    def require_write(self, site_id: str | None) -> None:
        """Write access to something of ``site_id`` (None: network-wide)."""
        if self.read_only:
            raise AccessDeniedError("auditors have read-only access")
        if site_id is None and not self.all_sites:
            raise AccessDeniedError("only a quality lead may act on network-wide items")
        self.require_site(site_id)

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise AccessDeniedError(f"role {self.role.value!r} may not do this (needs {allowed})")

    def in_period(self, moment: datetime) -> bool:
        """Whether the auditor's period covers ``moment`` (always true for other roles)."""
        if self.period_start is not None and moment < self.period_start:
            return False
        return self.period_end is None or moment < self.period_end


def _moment(value: Any, claim: str, *, end: bool) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTokenError(f"claim {claim!r} must be an ISO 8601 date or datetime")
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidTokenError(f"claim {claim!r} must be an ISO 8601 date or datetime") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Map verified claims to a principal; refuses incomplete or inconsistent ones (401)."""
    subject, network_id, role = claims.get("sub"), claims.get("network_id"), claims.get("role")
    if not isinstance(subject, str) or not subject:
        raise InvalidTokenError("claim 'sub' is missing")
    if not isinstance(network_id, str) or not network_id:
        raise InvalidTokenError("claim 'network_id' is missing")
    try:
        parsed_role = Role(str(role))
    except ValueError as exc:
        known = ", ".join(r.value for r in Role)
        raise InvalidTokenError(f"claim 'role' must be one of {known}") from exc
    sites = claims.get("site_ids", [])
    if not isinstance(sites, list) or not all(isinstance(s, str) for s in sites):
        raise InvalidTokenError("claim 'site_ids' must be a list of site ids")
    if parsed_role in (Role.SITE_MANAGER, Role.AUDITOR) and not sites:
        raise InvalidTokenError(f"a {parsed_role.value} token needs 'site_ids'")
    start = _moment(claims.get("period_start"), "period_start", end=False)
    end = _moment(claims.get("period_end"), "period_end", end=True)
    if parsed_role is Role.AUDITOR and (start is None or end is None or end <= start):
        raise InvalidTokenError("an auditor token needs 'period_start' before 'period_end'")
    return Principal(
        subject=subject,
        network_id=network_id,
        role=parsed_role,
        site_ids=frozenset(sites),
        period_start=start if parsed_role is Role.AUDITOR else None,
        period_end=end if parsed_role is Role.AUDITOR else None,
    )


class TokenVerifier:
    """Verifies bearer tokens; JWKS fetches run in a thread so the event loop never blocks.

    Without a JWKS URL or a public key every token is refused (fail closed).
    """

    def __init__(self, settings: AuthSettings) -> None:
        algorithms = [a.strip() for a in settings.auth_algorithms.split(",") if a.strip()]
        unsupported = set(algorithms) - set(SUPPORTED_ALGORITHMS)
        if unsupported:
            msg = f"unsupported algorithms {sorted(unsupported)}: use RS256 or ES256"
            raise ValueError(msg)
        self._settings = settings
        self._algorithms = algorithms
        self._static_key = settings.auth_public_key
        self._jwks = (
            jwt.PyJWKClient(
                settings.auth_jwks_url,
                cache_keys=True,
                lifespan=settings.auth_jwks_cache_seconds,
                timeout=5,
                cooldown_duration=settings.auth_jwks_refresh_cooldown_seconds,
            )
            if settings.auth_jwks_url
            else None
        )

    def _key_for(self, token: str, header: dict[str, Any]) -> Any:
        if self._jwks is not None and (header.get("kid") or self._static_key is None):
            try:
                return self._jwks.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientConnectionError as exc:
                raise InvalidTokenError(
                    "the identity provider's keys could not be fetched"
                ) from exc
            except jwt.PyJWKClientError as exc:
                raise InvalidTokenError(
                    "no key of the identity provider matches the token"
                ) from exc
        return self._static_key

    def verify_sync(self, token: str) -> Principal:
        if self._jwks is None and self._static_key is None:  # fail closed
            raise InvalidTokenError("no key configured to verify tokens (auth_jwks_url)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("malformed token") from exc
        alg = header.get("alg")
        if alg not in self._algorithms:
            # Named only when it is one we know: the header is the caller's input (any
            # text, any script), never echoed back.
            named = f"algorithm {alg!r}" if alg in SUPPORTED_ALGORITHMS else "the token's algorithm"
            raise InvalidTokenError(f"{named} is not accepted")
        key = self._key_for(token, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._settings.auth_audience,
                issuer=self._settings.auth_issuer,
                leeway=self._settings.auth_leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("token expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidTokenError("token signature does not verify") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidTokenError("token is not for this audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidTokenError("token is not from the expected issuer") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidTokenError("token not valid yet") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError(f"claim {exc.claim!r} is missing") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"invalid token: {type(exc).__name__}") from exc
        return principal_from_claims(claims)

    async def verify(self, token: str) -> Principal:
        if self._jwks is None:
            return self.verify_sync(token)
        return await asyncio.to_thread(self.verify_sync, token)


# Fixed challenges (RFC 6750): nothing of the request goes into a header. A reason built from
# the token (its `alg`, say) could hold characters a header cannot carry (an unauthenticated
# 500) or a forged parameter; the reason is in the JSON body only.
CHALLENGE_MISSING = 'Bearer realm="boucle"'
CHALLENGE_INVALID = 'Bearer realm="boucle", error="invalid_token"'


def unauthorized(reason: str, *, missing: bool = False) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=reason,
        headers={"WWW-Authenticate": CHALLENGE_MISSING if missing else CHALLENGE_INVALID},
    )


_bearer = HTTPBearer(auto_error=False, description="OIDC access token (JWT, RS256 or ES256).")


def principal_dependency(
    verifier: TokenVerifier,
) -> Callable[[HTTPAuthorizationCredentials | None], Awaitable[Principal]]:
    """A FastAPI dependency giving the verified caller, or raising 401.

    Declares the bearer security scheme in the OpenAPI document.
    """

    async def current_principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized("missing bearer token", missing=True)
        try:
            return await verifier.verify(credentials.credentials)
        except InvalidTokenError as exc:
            raise unauthorized(exc.reason) from exc

    return current_principal


def install_access_errors(app: FastAPI) -> None:
    """Turn an :class:`AccessDeniedError` raised in a route into HTTP 403 with its reason."""

    async def denied(_: Request, exc: Exception) -> JSONResponse:
        reason = exc.reason if isinstance(exc, AccessDeniedError) else "access denied"
        return JSONResponse({"detail": reason}, status_code=403)

    app.add_exception_handler(AccessDeniedError, denied)
