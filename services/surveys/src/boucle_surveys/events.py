"""Domain to contract: the solicitation events, with ids derived from what they record so
that a step published twice (a retry, a restart) is the same event downstream."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from boucle_contracts.registry import AnyEvent
from boucle_contracts.solicitations.v1 import (
    CollectionPlanPublished,
    CollectionPlanPublishedV1,
    SolicitationAnswered,
    SolicitationAnsweredV1,
    SolicitationExpired,
    SolicitationExpiredV1,
    SolicitationPlanned,
    SolicitationPlannedV1,
    SolicitationReminded,
    SolicitationRemindedV1,
    SolicitationSent,
    SolicitationSentV1,
)
from boucle_surveys.domain.plan import PlanVersion
from boucle_surveys.domain.solicitation import Solicitation

EVENT_NAMESPACE = uuid.UUID("c4f1a9e2-3b57-5d08-a6e4-9f2b71c0d3a8")
SOURCE = "/surveys"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, "\x1f".join(parts)))


def plan_published(plan: PlanVersion) -> CollectionPlanPublishedV1:
    return CollectionPlanPublishedV1.create(
        data=CollectionPlanPublished(
            plan_version=plan.version,
            effective_from=plan.effective_from,
            published_by=plan.published_by,
            published_at=plan.published_at,
            rules=plan.rules,
            note=plan.note,
        ),
        network_id=plan.network_id,
        source=f"{SOURCE}/plans",
        event_id=_id(plan.network_id, "plan", str(plan.version)),
        time=plan.published_at,
        subject=f"plan/{plan.version}",
    )


def _make(cls: type[AnyEvent], data: Any, s: Solicitation, step: str, time: datetime) -> AnyEvent:
    return cls.create(
        data=data,
        network_id=s.network_id,
        site_id=s.site_id,
        source=f"{SOURCE}/solicitations",
        event_id=_id(s.solicitation_id, step),
        time=time,
        subject=f"solicitation/{s.solicitation_id}",
    )


def planned(s: Solicitation, at: datetime) -> AnyEvent:
    data = SolicitationPlanned(
        solicitation_id=s.solicitation_id,
        plan_version=s.plan_version,
        rule_id=s.rule_id,
        survey_id=s.survey_id,
        survey_kind=s.survey_kind,
        respondent_role=s.respondent_role,
        respondent_ref=s.respondent_ref,
        anonymous=s.anonymous,
        occasion=s.occasion,
        training=s.training,
        due_at=s.due_at,
        expires_at=s.expires_at,
    )
    return _make(SolicitationPlannedV1, data, s, "planned", at)


def sent(s: Solicitation, at: datetime) -> AnyEvent:
    data = SolicitationSent(
        solicitation_id=s.solicitation_id,
        survey_kind=s.survey_kind,
        respondent_role=s.respondent_role,
        sent_at=at,
    )
    return _make(SolicitationSentV1, data, s, "sent", at)


def reminded(s: Solicitation, reminder: int, at: datetime) -> AnyEvent:
    data = SolicitationReminded(
        solicitation_id=s.solicitation_id, reminder=reminder, reminded_at=at
    )
    return _make(SolicitationRemindedV1, data, s, f"remind-{reminder}", at)


def answered(s: Solicitation, response_id: str, at: datetime) -> AnyEvent:
    data = SolicitationAnswered(
        solicitation_id=s.solicitation_id,
        response_id=response_id,
        survey_kind=s.survey_kind,
        respondent_role=s.respondent_role,
        answered_at=at,
    )
    return _make(SolicitationAnsweredV1, data, s, "answered", at)


def expired(s: Solicitation, at: datetime) -> AnyEvent:
    assert s.closing_reason is not None
    data = SolicitationExpired(
        solicitation_id=s.solicitation_id,
        reason=s.closing_reason,
        expired_at=at,
        was_sent=s.was_sent,
    )
    return _make(SolicitationExpiredV1, data, s, "expired", at)


def encoded(event: AnyEvent) -> bytes:
    return event.model_dump_json(by_alias=True).encode()
