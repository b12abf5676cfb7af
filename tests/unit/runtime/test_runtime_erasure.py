"""ErasureFollower: a request erases and leaves a receipt; an erased subject stays erased."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1, subject_digest
from boucle_runtime.erasure import ErasureFollower, InMemoryErasedSubjects

pytestmark = pytest.mark.unit
REQUEST = example_of(SubjectErasureRequestedV1)
SUBJECT = REQUEST.data.subject_ref
NOW = datetime(2025, 6, 3, tzinfo=UTC)


class Calls:
    def __init__(self) -> None:
        self.erased: list[tuple[str, str]] = []

    async def __call__(self, network_id: str, subject: str, now: datetime) -> dict[str, int]:
        self.erased.append((network_id, subject))
        return {"records": 2}


def follower() -> tuple[ErasureFollower, Calls, InMemoryErasedSubjects]:
    calls, erased = Calls(), InMemoryErasedSubjects()
    return (
        ErasureFollower(erase=calls, erased=erased, service="test", clock=lambda: NOW),
        calls,
        erased,
    )


def response(*, of: str, at: datetime) -> SurveyResponseSubmittedV1:
    example = example_of(SurveyResponseSubmittedV1)
    return SurveyResponseSubmittedV1.create(
        data=example.data.model_copy(update={"respondent_ref": of, "anonymous": False}),
        network_id=REQUEST.network_id,
        source="/test",
        time=at,
    )


async def test_a_request_erases_and_keeps_a_receipt_without_the_pseudonym() -> None:
    erasure, calls, erased = follower()

    await erasure.after(REQUEST)

    assert calls.erased == [(REQUEST.network_id, SUBJECT)]
    [receipt] = await erased.receipts(REQUEST.network_id)
    assert receipt.digest == subject_digest(REQUEST.network_id, SUBJECT)
    assert receipt.request_id == REQUEST.data.request_id
    assert receipt.erased_at == NOW
    assert receipt.erased == {"records": 2}
    assert SUBJECT not in repr(receipt)


async def test_an_event_dated_before_the_request_is_erased_when_it_arrives_late() -> None:
    erasure, calls, _ = follower()
    await erasure.after(REQUEST)

    await erasure.after(response(of=SUBJECT, at=REQUEST.data.requested_at - timedelta(days=9)))

    assert calls.erased == [(REQUEST.network_id, SUBJECT)] * 2


async def test_what_the_person_sends_after_the_request_and_other_people_stay() -> None:
    erasure, calls, _ = follower()
    await erasure.after(REQUEST)

    await erasure.after(response(of=SUBJECT, at=REQUEST.data.requested_at + timedelta(days=1)))
    await erasure.after(response(of="lrn-other", at=REQUEST.data.requested_at))

    assert calls.erased == [(REQUEST.network_id, SUBJECT)]


async def test_the_same_pseudonym_in_another_network_is_another_person() -> None:
    erasure, calls, _ = follower()
    await erasure.after(REQUEST)
    elsewhere = response(of=SUBJECT, at=REQUEST.data.requested_at).model_copy(
        update={"network_id": "autre-reseau"}
    )

    await erasure.after(elsewhere)

    assert len(calls.erased) == 1
