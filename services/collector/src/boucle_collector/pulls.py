"""Pull sources: LimeSurvey responses, exported on a schedule, incrementally by response id.

For each LimeSurvey integration of the file and each of its surveys: read the cursor (last
response id whose event Kafka acknowledged), export the completed responses numbered above
it, map them with the survey's effective mapping, publish them in increasing id order, then
move the cursor to the last one acknowledged. Nothing lost: a Kafka failure stops the batch,
and the failed response and those after it are exported again next time. Nothing twice: an
acknowledged response is below the cursor and is not exported again; ids at or below it
that the server still returns are skipped; if the cursor write itself fails, the re-export
publishes the same deterministic event ids (answered as duplicates by this replica, and
deduplicated by every consumer anyway). A response that cannot be mapped (no mapped answer,
a site outside the integration) is counted as ``unmappable``, logged, and passed over, as a
webhook would be refused with 422: retrying cannot fix it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from boucle_collector.adapters.integrations_file import IntegrationsSource
from boucle_collector.adapters.limesurvey import LimeSurveyClient, LimeSurveyError
from boucle_collector.domain.intake import SURVEY_RESPONSE, Intake
from boucle_collector.domain.integrations import Integration, Tenancy
from boucle_collector.domain.limesurvey import ExportFormatError, parse_export
from boucle_collector.domain.ports import CursorStore, LeaseStore
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.response_mapping import MappingError, map_response
from boucle_collector.intake_publisher import IntakePublisher, IntakeUnavailableError
from boucle_runtime.logging import get_logger
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)
CHANNEL = "pull/limesurvey"
LEASE = "limesurvey-pull"
FAILURES: dict[type[Exception], str] = {  # rejected_requests_total reason of a failed pull
    LimeSurveyError: "upstream_unavailable",
    ExportFormatError: "invalid",
    IntakeUnavailableError: "kafka_unavailable",
}


@dataclass(frozen=True, slots=True)
class PullReport:
    integration_id: str
    survey_id: str
    accepted: int = 0
    duplicates: int = 0
    unmappable: int = 0
    cursor: int = 0
    error: str | None = None


@dataclass(frozen=True)
class LimeSurveyPull:
    publisher: IntakePublisher
    integrations: IntegrationsSource
    cursors: CursorStore
    client: LimeSurveyClient
    pseudonymiser: Pseudonymiser | None
    leases: LeaseStore
    lease_seconds: float
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def run_once(self) -> list[PullReport]:
        """Every survey of every LimeSurvey integration, once; failures reported, not raised.

        Only the replica holding the pull lease pulls (it renews it at each round; another
        takes over once it has expired): one replica at a time, so no duplicate records.
        """
        tenancy = self.integrations.current
        surveys = [
            (integration, survey_id)
            for integration in tenancy.integrations.values()
            if integration.limesurvey is not None
            for survey_id in integration.limesurvey.survey_ids
        ]
        if not surveys or not await self.leases.acquire(
            name=LEASE, holder=self.holder, seconds=self.lease_seconds, now=datetime.now(UTC)
        ):
            return []
        reports: list[PullReport] = []
        for integration, survey_id in surveys:
            try:
                report = await self.pull(tenancy, integration, survey_id)
            except (LimeSurveyError, ExportFormatError, IntakeUnavailableError) as exc:
                self.publisher.metrics.rejected.labels(FAILURES[type(exc)], CHANNEL).inc()
                log.warning(
                    "limesurvey_pull_failed",
                    integration=integration.id,
                    survey_id=survey_id,
                    error=str(exc),
                )
                report = PullReport(integration.id, survey_id, error=str(exc))
            reports.append(report)
        return reports

    async def pull(self, tenancy: Tenancy, integration: Integration, survey_id: str) -> PullReport:
        source = integration.limesurvey
        assert source is not None
        if survey_id not in integration.forms:
            log.error(
                "limesurvey_survey_not_mapped", integration=integration.id, survey_id=survey_id
            )
            self.publisher.metrics.rejected.labels("no_mapping", CHANNEL).inc()
            return PullReport(integration.id, survey_id, error="survey not mapped")
        after = await self.cursors.last_id(integration_id=integration.id, survey_id=survey_id)
        document = await self.client.export_after(
            source,
            password=tenancy.access_tokens[integration.id],
            survey_id=survey_id,
            after=after,
        )
        responses = parse_export(document, survey_id=survey_id, zone=ZoneInfo(source.timezone))
        # Map with the mappings in force now, not at the start of the round: a mapping
        # written while the export was on its way applies to the responses it brought.
        integration = self.integrations.current.integrations.get(integration.id, integration)
        last, accepted, duplicates, unmappable = after, 0, 0, 0
        try:
            for response in responses:
                number = int(response.response_id)
                if number <= last:
                    continue  # already acknowledged (or repeated in this export)
                try:
                    mapped = map_response(
                        response, integration=integration, pseudonymiser=self.pseudonymiser
                    )
                except MappingError as exc:
                    unmappable += 1
                    self.publisher.metrics.rejected.labels("unmappable", CHANNEL).inc()
                    log.warning(
                        "limesurvey_response_unmappable",
                        integration=integration.id,
                        survey_id=survey_id,
                        response_id=number,
                        error=str(exc),
                    )
                    last = number
                    continue
                intake = Intake(
                    network_id=integration.network_id, site_id=mapped.site_id, channel=CHANNEL
                )
                outcome = await self.publisher.accept(SURVEY_RESPONSE, intake, mapped.data)
                accepted += not outcome.duplicate
                duplicates += outcome.duplicate
                self.publisher.metrics.mapping_losses(
                    CHANNEL,
                    integration.id,
                    survey_id,
                    unmapped=mapped.unmapped,
                    dropped=mapped.dropped,
                )
                last = number
        finally:  # also after a Kafka failure: up to the last response acknowledged
            if last > after:
                await self.cursors.advance(
                    integration_id=integration.id, survey_id=survey_id, response_id=last
                )
        return PullReport(integration.id, survey_id, accepted, duplicates, unmappable, last)

    def loop(self, interval_seconds: float) -> BackgroundLoop:
        """Pull at start, then every ``interval_seconds`` (a failed round, e.g. MongoDB
        unreachable, is logged and tried again next time)."""

        async def pull_round() -> None:
            # The reports are for tests and logs; a round never asks to run again at once.
            await self.run_once()

        return every(interval_seconds, pull_round, name="limesurvey_pull_round", at_start=True)
