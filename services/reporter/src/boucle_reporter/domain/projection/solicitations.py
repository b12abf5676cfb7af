"""``solicitations``: who was asked and whether they answered (the denominators of response
rates, indicator 30). No pseudonym is kept: a rate needs the stakeholder type, the survey
kind and the dates. Pure."""

from __future__ import annotations

from typing import Any

from boucle_contracts.solicitations.v1 import (
    SolicitationAnsweredV1,
    SolicitationExpiredV1,
    SolicitationSentV1,
)
from boucle_reporter.domain.projection.write import Write, key, tenant


def _asked(event: SolicitationSentV1 | SolicitationAnsweredV1, moment: dict[str, Any]) -> Write:
    data = event.data
    return Write(
        "solicitations",
        key(event, data.solicitation_id),
        fields={
            **tenant(event),
            "survey_kind": str(data.survey_kind),
            "respondent_role": str(data.respondent_role),
            **moment,
        },
    )


def solicitation_sent(event: SolicitationSentV1, _seq: int) -> list[Write]:
    return [_asked(event, {"sent_at": event.data.sent_at})]


def solicitation_answered(event: SolicitationAnsweredV1, _seq: int) -> list[Write]:
    return [_asked(event, {"answered_at": event.data.answered_at})]


def solicitation_expired(event: SolicitationExpiredV1, _seq: int) -> list[Write]:
    data = event.data
    return [
        Write(
            "solicitations",
            key(event, data.solicitation_id),
            fields={
                **tenant(event),
                "closed_at": data.expired_at,
                "closing_reason": str(data.reason),
                "was_sent": data.was_sent,
            },
        )
    ]
