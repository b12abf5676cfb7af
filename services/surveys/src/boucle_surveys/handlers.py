"""The Kafka subscriber: training facts and responses in, solicitations planned and
closed; names of programmes and sites remembered for the e-mails; erasure requests."""

from __future__ import annotations

from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1
from boucle_contracts.referential.v1 import ProgrammeNamedV1, SiteNamedV1
from boucle_contracts.training.v1 import DropoutRecordedV1, EnrolmentRecordedV1, SessionCompletedV1
from boucle_runtime.consumer import Consumers
from boucle_surveys.domain.ports import Names
from boucle_surveys.erasure import Erasure
from boucle_surveys.intake import Intake


def subscribe(consumers: Consumers, intake: Intake, names: Names, erasure: Erasure) -> None:
    @consumers.subscriber(
        handles=[
            EnrolmentRecordedV1,
            SessionCompletedV1,
            DropoutRecordedV1,
            SurveyResponseSubmittedV1,
            ProgrammeNamedV1,
            SiteNamedV1,
            SubjectErasureRequestedV1,
        ]
    )
    async def on_event(
        event: EnrolmentRecordedV1
        | SessionCompletedV1
        | DropoutRecordedV1
        | SurveyResponseSubmittedV1
        | ProgrammeNamedV1
        | SiteNamedV1
        | SubjectErasureRequestedV1,
    ) -> None:
        if isinstance(event, EnrolmentRecordedV1):
            await intake.on_enrolment(event)
        elif isinstance(event, SessionCompletedV1):
            await intake.on_session(event)
        elif isinstance(event, DropoutRecordedV1):
            await intake.on_dropout(event)
        elif isinstance(event, SurveyResponseSubmittedV1):
            await intake.on_response(event)
        elif isinstance(event, ProgrammeNamedV1):
            await names.remember(
                event.network_id, "programme", event.data.programme_id, event.data.name
            )
        elif isinstance(event, SiteNamedV1):
            await names.remember(event.network_id, "site", event.data.site_id, event.data.name)
        else:
            await erasure.erase(event.network_id, event.data.subject_ref)
