"""Training facts and responses in, solicitations out (contract in, domain, store).

Enrolments build each session's roster; a completed session asks its stakeholders and a
dropout its learner, following the plan in force at that date; a response closes the
solicitation it answers. Everything is idempotent: ids come from the facts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from boucle_contracts.common import RespondentRole
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.solicitations.v1 import CollectionTrigger
from boucle_contracts.training.v1 import DropoutRecordedV1, EnrolmentRecordedV1, SessionCompletedV1
from boucle_runtime.logging import get_logger
from boucle_surveys import events
from boucle_surveys.domain.plan import in_force
from boucle_surveys.domain.planning import (
    Enrolment,
    Occasion,
    SessionEnded,
    dropout_occasion,
    session_occasion,
    solicitations_for,
    yearly_occasion,
)
from boucle_surveys.domain.ports import PlanStore, Roster, SolicitationStore
from boucle_surveys.domain.solicitation import Solicitation, Status
from boucle_surveys.metrics import SurveysMetrics
from boucle_surveys.relay import Relay

log = get_logger(__name__)


class Intake:
    def __init__(
        self,
        *,
        plans: PlanStore,
        roster: Roster,
        solicitations: SolicitationStore,
        relay: Relay,
        metrics: SurveysMetrics,
    ) -> None:
        self._plans = plans
        self._roster = roster
        self._store = solicitations
        self._relay = relay
        self._metrics = metrics

    async def on_enrolment(self, event: EnrolmentRecordedV1) -> None:
        data = event.data
        await self._roster.enrol(
            event.network_id,
            Enrolment(
                enrolment_id=data.enrolment_id,
                learner_ref=data.learner_ref,
                site_id=event.site_id,
                training=data.training,
                funder_id=data.funder_id,
                company_id=data.company_id,
            ),
        )

    async def on_session(self, event: SessionCompletedV1) -> list[Solicitation]:
        data = event.data
        await self._roster.note_trainers(event.network_id, data.trainer_ids)
        session = SessionEnded(
            session_id=data.session_id,
            programme_id=data.programme_id,
            site_id=event.site_id,
            ended_at=data.completed_at,
            trainer_ids=data.trainer_ids,
        )
        enrolments = await self._roster.of_session(event.network_id, data.session_id)
        occasion = session_occasion(session, enrolments)
        return await self._plan(event.network_id, CollectionTrigger.SESSION_END, occasion)

    async def on_dropout(self, event: DropoutRecordedV1) -> list[Solicitation]:
        data = event.data
        left = await self._roster.drop_out(event.network_id, data.enrolment_id)
        enrolment = left or Enrolment(
            enrolment_id=data.enrolment_id,
            learner_ref=data.learner_ref,
            site_id=event.site_id,
            training=data.training,
            dropped_out=True,
        )
        occasion = dropout_occasion(enrolment, data.dropped_at)
        return await self._plan(event.network_id, CollectionTrigger.DROPOUT, occasion)

    async def _plan(
        self, network_id: str, trigger: CollectionTrigger, occasion: Occasion
    ) -> list[Solicitation]:
        plan = in_force(await self._plans.versions(network_id), occasion.at)
        if plan is None:
            log.info("no_collection_plan", network_id=network_id, trigger=str(trigger))
            return []
        wanted = solicitations_for(plan, trigger, occasion)
        stored = await self._store.add_new(
            wanted, lambda s: events.encoded(events.planned(s, occasion.at))
        )
        self._metrics.planned.inc(len(stored))
        await self._relay.flush()
        return stored

    async def plan_yearly(self, now: datetime) -> list[Solicitation]:
        """This year's yearly solicitations of every network (idempotent: run it hourly)."""
        planned: list[Solicitation] = []
        for network_id in await self._plans.networks():
            plan = in_force(await self._plans.versions(network_id), now)
            if plan is None or not any(r.trigger is CollectionTrigger.YEARLY for r in plan.rules):
                continue
            start = max(datetime(now.year, 1, 1, tzinfo=UTC), plan.effective_from)
            people = await self._roster.people(network_id)
            occasion = yearly_occasion(
                now.year, start, {RespondentRole(role): refs for role, refs in people.items()}
            )
            planned += await self._plan(network_id, CollectionTrigger.YEARLY, occasion)
        return planned

    async def on_response(self, event: SurveyResponseSubmittedV1) -> Solicitation | None:
        """Closes the solicitation the response answers: its person's (the link carried
        their pseudonym), or for an anonymous survey one of its session's."""
        data = event.data
        candidates = await self._store.answerable(
            event.network_id,
            data.survey_id,
            None if data.anonymous else data.respondent_ref,
            data.training.session_id,
        )
        if any(c.response_id == data.response_id for c in candidates):
            return None  # a redelivered response
        chosen = next((c for c in candidates if c.status is not Status.ANSWERED), None)
        if chosen is None:
            self._metrics.unsolicited.inc()
            return None
        answered = chosen.answered(data.response_id, data.submitted_at)
        await self._store.save(
            answered,
            [events.encoded(events.answered(answered, data.response_id, data.submitted_at))],
        )
        self._metrics.answered.labels(str(answered.survey_kind)).inc()
        await self._relay.flush()
        return answered
