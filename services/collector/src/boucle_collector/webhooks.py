"""Signed webhooks of survey platforms: verify, parse, map, publish; answer the platform.

``POST /v1/webhooks/{platform}/{integration_id}``. Answers are chosen for platforms that
retry on 5xx (Typeform retries on 503 for hours): 2xx once the event is on Kafka (or was
already), or for deliveries that carry no response; 4xx for what a retry cannot fix (bad
signature, unknown integration, a payload or mapping problem); 503 with ``Retry-After`` only
for transient failures (Kafka, SurveyMonkey's API).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel

from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.adapters.webhooks import (
    formbricks,
    jotform,
    kobotoolbox,
    surveymonkey,
    tally,
    typeform,
)
from boucle_collector.adapters.webhooks.common import (
    Delivery,
    PayloadError,
    SignatureError,
    json_document,
)
from boucle_collector.api import COMMON_RESPONSES, Gate
from boucle_collector.domain.intake import SURVEY_RESPONSE, Intake
from boucle_collector.domain.integrations import Integration, Platform, Tenancy
from boucle_collector.domain.mapping import MappingError, PlatformResponse, map_response
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.handlers import IntakeHandler
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
IntegrationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")]


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
    unmapped: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class WebhookIntake:
    handler: IntakeHandler
    gate: Gate
    integrations: IntegrationsSource
    pseudonymiser: Pseudonymiser | None
    surveymonkey: surveymonkey.SurveyMonkeyClient

    def _refuse(self, code: int, reason: str, channel: str, detail: str) -> NoReturn:
        self.gate.refuse(code, reason, channel, detail)

    def integration(
        self, tenancy: Tenancy, platform: str, integration_id: str, channel: str
    ) -> Integration:
        integration = tenancy.webhook(platform, integration_id)
        if integration is None:
            self._refuse(
                404, "unknown_integration", channel, f"no {platform} integration {integration_id}"
            )
        return integration

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
        tenancy = self.integrations.current  # one configuration for the whole delivery
        integration = self.integration(tenancy, platform, integration_id, channel)
        body = await request.body()
        delivery = Delivery(
            body=body,
            headers={name.lower(): value for name, value in request.headers.items()},
            query=dict(request.query_params),
        )
        try:
            ADAPTERS[platform].verify(delivery, tenancy.secrets[integration.id])
        except SignatureError as exc:
            self._refuse(401, "bad_signature", channel, str(exc))
        # After the signature: unsigned floods cannot exhaust the platform's own quota.
        self.gate.throttle(f"{integration.id}/webhook", channel)
        try:
            if getattr(ADAPTERS[platform], "FORM_ENCODED", False):
                document = await _form_fields(request)
            else:
                document = json_document(body)
            parsed = await self._response(tenancy, integration, document, channel)
            if parsed is None:
                return WebhookAnswer(
                    status="ignored", reason="delivery carries no completed response"
                )
            mapped = map_response(parsed, integration=integration, pseudonymiser=self.pseudonymiser)
        except (PayloadError, MappingError) as exc:
            self._refuse(422, "unmappable", channel, str(exc))
        intake = Intake(network_id=integration.network_id, site_id=mapped.site_id, channel=channel)
        outcome = await self.handler.accept(SURVEY_RESPONSE, intake, mapped.data)
        if mapped.unmapped:
            self.gate.metrics.unmapped.labels(channel, integration.id).inc(mapped.unmapped)
        return WebhookAnswer(
            status=outcome.status, event_id=outcome.event.id, unmapped=mapped.unmapped
        )


def webhook_router(intake: WebhookIntake) -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
    responses: dict[int | str, dict[str, Any]] = {
        401: {"description": "Signature missing, wrong, or (Formbricks) outside the time window."},
        404: {"description": "No such integration for this platform."},
        413: COMMON_RESPONSES[413],
        422: {"description": "Payload not in the platform's format, or not mappable."},
        429: COMMON_RESPONSES[429],
        503: {"description": "Kafka or the platform's API unavailable: retry (Retry-After)."},
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
        """SurveyMonkey checks the subscription URL with HEAD before sending callbacks."""
        intake.integration(
            intake.integrations.current, platform, integration_id, f"webhooks/{platform}"
        )
        return Response(status_code=status.HTTP_200_OK)

    return router
