"""From training facts to solicitations, following the plan in force.

A session's stakeholders are its learners (those who did not leave), its trainers, and
the companies and funders of its enrolments; a dropout's is the learner who left; yearly
rules ask every funder, company and trainer the network has worked with. Each rule that
applies gives one solicitation per person, due ``delay_days`` after the trigger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from boucle_contracts.common import RespondentRole, TrainingRef
from boucle_contracts.solicitations.v1 import CollectionRule, CollectionTrigger
from boucle_surveys.domain.plan import PlanVersion
from boucle_surveys.domain.solicitation import Solicitation, solicitation_id_for


@dataclass(frozen=True, slots=True)
class Enrolment:
    enrolment_id: str
    learner_ref: str
    site_id: str | None
    training: TrainingRef
    funder_id: str | None = None
    company_id: str | None = None
    dropped_out: bool = False


@dataclass(frozen=True, slots=True)
class SessionEnded:
    session_id: str
    programme_id: str
    site_id: str | None
    ended_at: datetime
    trainer_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Occasion:
    """What a solicitation is about, and who is concerned, by stakeholder type."""

    key: str
    site_id: str | None
    training: TrainingRef
    at: datetime
    people: Mapping[RespondentRole, tuple[str, ...]] = field(default_factory=dict)


def session_occasion(session: SessionEnded, enrolments: Iterable[Enrolment]) -> Occasion:
    staying = [e for e in enrolments if not e.dropped_out]
    return Occasion(
        key=session.session_id,
        site_id=session.site_id,
        training=TrainingRef(
            programme_id=session.programme_id,
            session_id=session.session_id,
            trainer_ids=session.trainer_ids,
        ),
        at=session.ended_at,
        people={
            RespondentRole.LEARNER: _distinct(e.learner_ref for e in staying),
            RespondentRole.TRAINER: _distinct(session.trainer_ids),
            RespondentRole.COMPANY: _distinct(e.company_id for e in staying),
            RespondentRole.FUNDER: _distinct(e.funder_id for e in staying),
        },
    )


def dropout_occasion(enrolment: Enrolment, dropped_at: datetime) -> Occasion:
    return Occasion(
        key=f"abandon:{enrolment.enrolment_id}",
        site_id=enrolment.site_id,
        training=enrolment.training,
        at=dropped_at,
        people={RespondentRole.LEARNER: (enrolment.learner_ref,)},
    )


def yearly_occasion(
    year: int, starts_at: datetime, people: Mapping[RespondentRole, Iterable[str]]
) -> Occasion:
    return Occasion(
        key=f"annee:{year}",
        site_id=None,
        training=TrainingRef(),
        at=starts_at,
        people={role: _distinct(refs) for role, refs in people.items()},
    )


def solicitations_for(
    plan: PlanVersion, trigger: CollectionTrigger, occasion: Occasion
) -> list[Solicitation]:
    """One solicitation per rule that applies and person concerned, ids stable."""
    planned: list[Solicitation] = []
    for role, refs in occasion.people.items():
        for rule in plan.rules_for(trigger, role, occasion.training.programme_id):
            planned.extend(_solicit(plan, rule, occasion, ref) for ref in refs)
    return planned


def _solicit(plan: PlanVersion, rule: CollectionRule, occasion: Occasion, ref: str) -> Solicitation:
    due_at = occasion.at + timedelta(days=rule.delay_days)
    return Solicitation(
        solicitation_id=solicitation_id_for(plan.network_id, rule.rule_id, ref, occasion.key),
        network_id=plan.network_id,
        site_id=occasion.site_id,
        plan_version=plan.version,
        rule_id=rule.rule_id,
        survey_id=rule.survey_id,
        survey_kind=rule.survey_kind,
        respondent_role=rule.stakeholder,
        respondent_ref=ref,
        anonymous=rule.anonymous,
        occasion=occasion.key,
        training=occasion.training,
        due_at=due_at,
        expires_at=due_at + timedelta(days=rule.expires_after_days),
        reminder_days=rule.reminder_days,
    )


def _distinct(refs: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ref for ref in refs if ref))
