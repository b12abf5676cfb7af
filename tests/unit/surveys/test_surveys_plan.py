"""Collection plans: rules checked, versions in order, the version in force on a date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from boucle_contracts.common import RespondentRole
from boucle_contracts.solicitations.v1 import CollectionTrigger
from boucle_surveys.domain.plan import PlanError, in_force, next_version
from tests.unit.surveys.surveys_support import NETWORK, NOW, plan, rule

pytestmark = pytest.mark.unit


def test_versions_follow_each_other_and_the_one_in_force_is_picked_by_date() -> None:
    first = next_version(
        [],
        network_id=NETWORK,
        effective_from=NOW,
        rules=[rule()],
        published_by="q",
        published_at=NOW,
    )
    later = NOW + timedelta(days=30)
    second = next_version(
        [first],
        network_id=NETWORK,
        effective_from=later,
        rules=[rule(), rule("froid", delay_days=45, survey_id="form-froid")],
        published_by="q",
        published_at=NOW,
    )
    assert (first.version, second.version) == (1, 2)
    assert in_force([first, second], NOW - timedelta(seconds=1)) is None
    assert in_force([first, second], NOW + timedelta(days=29)) == first
    assert in_force([first, second], later) == second


def test_a_version_cannot_take_effect_before_the_one_in_force() -> None:
    first = plan()
    with pytest.raises(PlanError, match="ne peut pas s'appliquer avant la version 1"):
        next_version(
            [first],
            network_id=NETWORK,
            effective_from=NOW - timedelta(days=1),
            rules=[rule()],
            published_by="q",
            published_at=NOW,
        )


def test_duplicate_rules_are_refused_in_words() -> None:
    with pytest.raises(PlanError, match="apparaît deux fois"):
        next_version(
            [],
            network_id=NETWORK,
            effective_from=NOW,
            rules=[rule(), rule()],
            published_by="q",
            published_at=NOW,
        )
    with pytest.raises(PlanError, match="enverraient la même enquête"):
        next_version(
            [],
            network_id=NETWORK,
            effective_from=NOW,
            rules=[rule(), rule("bis")],
            published_by="q",
            published_at=NOW,
        )


@pytest.mark.parametrize(
    ("reminders", "expires"), [((7, 3), 30), ((3, 3), 30), ((0,), 30), ((3, 30), 30)]
)
def test_reminders_must_be_increasing_and_before_expiry(
    reminders: tuple[int, ...], expires: int
) -> None:
    with pytest.raises(ValidationError):
        rule(reminder_days=reminders, expires_after_days=expires)


def test_rules_apply_to_their_programmes_only() -> None:
    version = plan(rule(), rule("froid-gp", programme_ids=("prog-gp",), survey_id="form-froid"))
    learner = RespondentRole.LEARNER
    trigger = CollectionTrigger.SESSION_END
    assert [r.rule_id for r in version.rules_for(trigger, learner, "prog-gp")] == [
        "chaud-stagiaires",
        "froid-gp",
    ]
    assert [r.rule_id for r in version.rules_for(trigger, learner, "prog-autre")] == [
        "chaud-stagiaires"
    ]
    assert version.rules_for(trigger, RespondentRole.FUNDER, "prog-gp") == ()
