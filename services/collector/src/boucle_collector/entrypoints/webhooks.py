"""Signed webhooks of survey platforms: verify, parse, map, publish; answer the platform.

``POST /v1/webhooks/{platform}/{integration_id}``. Answers are chosen for platforms that
retry on 5xx (Typeform retries on 503 for hours): 2xx once the event is on Kafka (or was
already), or for deliveries that carry no response; 4xx for what a retry cannot fix (bad
signature, unknown integration, a payload or mapping problem); 503 with ``Retry-After`` only
for transient failures (Kafka, SurveyMonkey's API).

An unknown integration id is answered exactly like a bad signature (401, same body, same
headers): the delivery is verified against a dummy secret of the platform, so that neither
the answer nor its timing tells which integrations exist. Failed attempts are limited per
client address and per URL (429 before the body is read), so that guessing ids or secrets
costs the guesser time, not us CPU.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, Field

from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.adapters.webhook_formats import (
    formbricks,
    jotform,
    kobotoolbox,
    surveymonkey,
    tally,
    typeform,
)
from boucle_collector.adapters.webhook_formats.common import (
    Delivery,
    PayloadError,
    SignatureError,
    json_document,
)
from boucle_collector.domain.intake import SURVEY_RESPONSE, Intake
from boucle_collector.domain.integrations import Integration, Platform, Tenancy
from boucle_collector.domain.limits import RateLimiter, retry_after
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.response_mapping import MappingError, PlatformResponse, map_response
from boucle_collector.entrypoints.errors import COMMON_RESPONSES
from boucle_collector.entrypoints.gate import Gate
from boucle_collector.entrypoints.path_params import ID_PATTERN
from boucle_collector.intake_publisher import IntakePublisher
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
ADAPTERS: dict[str, ModuleType] = {
    Platform.TYPEFORM: typeform,
    Platform.TALLY: tally,
    Platform.SURVEYMONKEY: surveymonkey,
    Platform.FORMBRICKS: formbricks,
    Platform.KOBOTOOLBOX: kobotoolbox,
    Platform.JOTFORM: jotform,
}
PlatformName = Annotated[
    str,
    Path(
        pattern="^(" + "|".join(ADAPTERS) + ")$",
        description="Survey platform.",
    ),
]
IntegrationId = Annotated[str, Path(pattern=ID_PATTERN)]
# Verified against when the integration is unknown: random, never a valid secret, each in
# its platform's format so that verification takes the same path as for a real one.
DUMMY_SECRETS: dict[str, tuple[str, ...]] = {
    Platform.TYPEFORM: (secrets.token_urlsafe(32),),
    Platform.TALLY: (secrets.token_urlsafe(32),),
    Platform.SURVEYMONKEY: (f"{secrets.token_hex(16)}&{secrets.token_hex(16)}",),
    Platform.FORMBRICKS: ("whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),),
    Platform.KOBOTOOLBOX: (f"{secrets.token_hex(8)}:{secrets.token_urlsafe(16)}",),
    Platform.JOTFORM: (secrets.token_urlsafe(24),),
}


async def _form_fields(request: Request) -> dict[str, Any]:
    """The text fields of a multipart or url-encoded body (files are not answers)."""
    try:
        form = await request.form()
    except Exception as exc:  # python-multipart's errors for a malformed body
        raise PayloadError(f"body is not a readable form: {exc}") from exc
    return {key: value for key, value in form.items() if isinstance(value, str)}


class WebhookAnswer(BaseModel):
    status: str  # accepted, duplicate, ignored
    event_id: str | None = None
    unmapped: int = Field(
        default=0, description="Mapped answers whose value did not fit (kept in `unmapped`)."
    )
    dropped: int = Field(
        default=0, description="Answers no mapping declares: not published, counted."
    )
    reason: str | None = None


@dataclass(frozen=True)
class WebhookIntake:
    publisher: IntakePublisher
    gate: Gate
    integrations: IntegrationsSource
    pseudonymiser: Pseudonymiser | None
    surveymonkey: surveymonkey.SurveyMonkeyClient
    failures: RateLimiter  # charged by failed signatures only, per address and per URL

    def _refuse(
        self, code: int, reason: str, channel: str, detail: str, **headers: str
    ) -> NoReturn:
        self.gate.refuse(code, reason, channel, detail, **headers)

    def _check_failures(self, request: Request, platform: str, integration_id: str) -> None:
        """429 while this address, or this URL, has used up its failed attempts."""
        channel = f"webhooks/{platform}"
        address = request.client.host if request.client else "unknown"
        for key, what in (
            (f"address/{address}", "from this address"),
            (f"url/{platform}/{integration_id}", "on this webhook URL"),
        ):
            wait = self.failures.wait(key)
            if wait > 0:
                self._refuse(
                    429,
                    "too_many_bad_signatures",
                    channel,
                    f"too many unsigned or wrongly signed attempts {what}; retry later",
                    **{"Retry-After": retry_after(wait)},
                )

    def _record_failure(self, request: Request, platform: str, integration_id: str) -> None:
        address = request.client.host if request.client else "unknown"
        self.failures.acquire(f"address/{address}")
        self.failures.acquire(f"url/{platform}/{integration_id}")

    async def _verified(
        self, tenancy: Tenancy, platform: str, integration_id: str, request: Request
    ) -> tuple[Integration, Delivery]:
        """The integration and its delivery, signature checked; else the one 401 for all.

        An unknown id (or one of another platform) is verified against a dummy secret: the
        answer is the verifier's reason for the same request, whether or not it exists.
        """
        channel = f"webhooks/{platform}"
        integration = tenancy.webhook(platform, integration_id)
        body = await request.body()
        delivery = Delivery(
            body=body,
            headers={name.lower(): value for name, value in request.headers.items()},
            query=dict(request.query_params),
        )
        candidates = (
            tenancy.secrets[integration.id] if integration is not None else DUMMY_SECRETS[platform]
        )
        try:
            ADAPTERS[platform].verify(delivery, candidates)
        except SignatureError as exc:
            failure = str(exc)
        else:
            if integration is not None:
                return integration, delivery
            failure = "signature does not match"  # unreachable: a dummy secret is never known
        self._record_failure(request, platform, integration_id)
        if integration is None:
            log.info("webhook_unknown_integration", platform=platform, integration=integration_id)
        self._refuse(
            401,
            "unknown_integration" if integration is None else "bad_signature",
            channel,
            failure,
        )

    async def _response(
        self, tenancy: Tenancy, integration: Integration, document: Mapping[str, Any], channel: str
    ) -> PlatformResponse | None:
        if integration.platform is not Platform.SURVEYMONKEY:
            parse: Callable[[Mapping[str, Any]], PlatformResponse | None] = ADAPTERS[
                integration.platform
            ].parse
            return parse(document)
        ids = surveymonkey.callback_ids(document)
        if ids is None:
            return None
        try:
            details = await self.surveymonkey.details(
                survey_id=ids[0],
                response_id=ids[1],
                token=tenancy.access_tokens[integration.id],
            )
        except surveymonkey.UpstreamUnavailableError as exc:
            self.gate.metrics.rejected.labels("upstream_unavailable", channel).inc()
            log.warning("surveymonkey_fetch_failed", integration=integration.id, error=str(exc))
            raise HTTPException(
                503, detail=f"{exc}; retry later", headers={"Retry-After": "60"}
            ) from exc
        except surveymonkey.UpstreamNotFoundError as exc:
            raise PayloadError(str(exc)) from exc
        return surveymonkey.parse_details(details)

    async def receive(self, platform: str, integration_id: str, request: Request) -> WebhookAnswer:
        channel = f"webhooks/{platform}"
        # Before the body is read: a flood of guesses costs a lookup, not a read and an HMAC.
        self._check_failures(request, platform, integration_id)
        tenancy = self.integrations.current  # one configuration for the whole delivery
        integration, delivery = await self._verified(tenancy, platform, integration_id, request)
        # After the signature: unsigned floods cannot exhaust the platform's own quota.
        self.gate.throttle(f"{integration.id}/webhook", channel)
        try:
            if getattr(ADAPTERS[platform], "FORM_ENCODED", False):
                document = await _form_fields(request)
            else:
                document = json_document(delivery.body)
            parsed = await self._response(tenancy, integration, document, channel)
            if parsed is None:
                return WebhookAnswer(
                    status="ignored", reason="delivery carries no completed response"
                )
            mapped = map_response(parsed, integration=integration, pseudonymiser=self.pseudonymiser)
        except (PayloadError, MappingError) as exc:
            self._refuse(422, "unmappable", channel, str(exc))
        intake = Intake(network_id=integration.network_id, site_id=mapped.site_id, channel=channel)
        outcome = await self.publisher.accept(SURVEY_RESPONSE, intake, mapped.data)
        self.gate.metrics.mapping_losses(
            channel,
            integration.id,
            parsed.form_id,
            unmapped=mapped.unmapped,
            dropped=mapped.dropped,
        )
        return WebhookAnswer(
            status=outcome.status,
            event_id=outcome.event.id,
            unmapped=mapped.unmapped,
            dropped=mapped.dropped,
        )


def webhook_router(intake: WebhookIntake) -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
    responses: dict[int | str, dict[str, Any]] = {
        401: {
            "description": "Signature missing, wrong, or (Formbricks) outside the time window; "
            "or no such integration for this platform (answered alike, on purpose)."
        },
        413: COMMON_RESPONSES[413],
        422: {"description": "Payload not in the platform's format, or not mappable."},
        429: {
            "description": "Rate limit of the integration reached, or too many unsigned or "
            "wrongly signed attempts from this address or on this URL; see Retry-After."
        },
        503: {
            "description": "Kafka or the platform's API unavailable: the outcome is unknown, "
            "a retry is safe (same event id); see Retry-After."
        },
    }

    @router.post(
        "/{platform}/{integration_id}",
        responses=responses,
        summary="Delivery of a survey platform's webhook",
    )
    async def receive(
        platform: PlatformName, integration_id: IntegrationId, request: Request
    ) -> WebhookAnswer:
        """A signed delivery: 200 once its response is on Kafka (or already was), or ignored."""
        return await intake.receive(platform, integration_id, request)

    @router.head("/{platform}/{integration_id}", status_code=status.HTTP_200_OK)
    async def probe(platform: PlatformName, integration_id: IntegrationId) -> Response:
        """SurveyMonkey checks the subscription URL with HEAD before sending callbacks.

        200 for any integration id, known or not: a probe must not tell which exist.
        """
        return Response(status_code=status.HTTP_200_OK)

    return router
