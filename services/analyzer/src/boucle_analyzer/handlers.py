"""Kafka subscribers: contract in, domain, persisted.

Each input event is applied once to the ledger, the comment records and every aggregate it
counts in; publishing what changed is the figures publisher's job, detecting degradations
the detection runner's (both background loops, so a consumed message never waits on them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from faststream.kafka.annotations import KafkaMessage

from boucle_analyzer.domain.aggregation import (
    Contribution,
    complaint_contribution,
    completion_contribution,
    dropout_contribution,
    enrolment_contribution,
    hazard_contribution,
    response_contribution,
    scopes_for,
    spread,
)
from boucle_analyzer.domain.comment_ids import response_comment_id
from boucle_analyzer.domain.ports import (
    HAZARD_SOURCE,
    AggregateStore,
    CommentRecord,
    CommentStore,
    Position,
    Receipt,
)
from boucle_analyzer.domain.themes import Classification, Classifier
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.common import TrainingRef
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1, TextAnswer
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1
from boucle_contracts.training.v1 import DropoutRecordedV1, EnrolmentRecordedV1, SessionCompletedV1
from boucle_runtime.consumer import Consumers
from boucle_runtime.erasure import ErasureFollower
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
InputEvent = (
    SurveyResponseSubmittedV1
    | ComplaintReceivedV1
    | HazardReportedV1
    | EnrolmentRecordedV1
    | SessionCompletedV1
    | DropoutRecordedV1
)
INPUT_EVENTS = (
    SurveyResponseSubmittedV1,
    ComplaintReceivedV1,
    HazardReportedV1,
    EnrolmentRecordedV1,
    SessionCompletedV1,
    DropoutRecordedV1,
)


class InputHandler:
    """Applies each input event once: ledger, comment records, then every aggregate."""

    def __init__(
        self,
        *,
        store: AggregateStore,
        comments: CommentStore,
        classifier: Classifier,
        metrics: AnalyzerMetrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._comments = comments
        self._classifier = classifier
        self._metrics = metrics
        self._clock = clock

    async def handle(self, event: InputEvent, position: Position) -> Receipt:
        started = time.perf_counter()
        receipt = await self._store.receive(event_id=event.id, position=position)
        if receipt is Receipt.DUPLICATE:
            self._metrics.events.labels(event.type, "duplicate").inc()
            log.info("duplicate_event_skipped", event_id=event.id)
            return receipt
        texts = _texts(event)
        # A real French pipeline takes milliseconds per comment: off the event loop, in one
        # batch per event.
        found = (
            await asyncio.to_thread(
                self._classifier.classify_many, event.network_id, [t for _, t in texts]
            )
            if texts
            else []
        )
        contribution, records = self._contribution(event, texts, found)
        await self._comments.keep(records=records)
        deltas = spread(event.network_id, event.site_id, contribution)
        await self._store.apply_all(
            deltas=deltas,
            position=position,
            event_id=event.id,
            redelivery=receipt is Receipt.REDELIVERY,
        )
        self._metrics.events.labels(event.type, receipt.value).inc()
        self._metrics.latency.labels(event.type).observe(time.perf_counter() - started)
        self._metrics.event_age.observe(max(0.0, (self._clock() - event.time).total_seconds()))
        return receipt

    def _contribution(
        self, event: InputEvent, texts: list[tuple[str, str]], found: list[Classification]
    ) -> tuple[Contribution, list[CommentRecord]]:
        if isinstance(event, SurveyResponseSubmittedV1):
            response = event.data
            records = self._records(event, response.training, response.submitted_at, found, texts)
            negative = [r for r in records if r.negative]
            themes = [theme for r in negative for theme in r.themes]
            contribution = response_contribution(response, themes, len(negative))
            return contribution, records
        if isinstance(event, ComplaintReceivedV1):
            complaint = event.data
            records = self._records(event, complaint.training, complaint.received_at, found, texts)
            themes = list(records[0].themes)
            taxonomy = self._classifier.taxonomy(event.network_id)
            hint = complaint.category_hint
            if hint is not None and hint in taxonomy.themes and hint not in themes:
                themes.append(hint)
            # A complaint is a negative text whatever its wording.
            records = [replace(records[0], themes=tuple(themes), negative=True)]
            return complaint_contribution(complaint, themes), records
        if isinstance(event, HazardReportedV1):
            return hazard_contribution(event.data), [self._hazard(event)]
        if isinstance(event, EnrolmentRecordedV1):
            return enrolment_contribution(event.data), []
        if isinstance(event, SessionCompletedV1):
            return completion_contribution(event.data), []
        return dropout_contribution(event.data), []

    @staticmethod
    def _hazard(event: HazardReportedV1) -> CommentRecord:
        """A hazard kept by id, where and when, so that problems can name it (no text: its
        summary is not a comment and is not classified)."""
        hazard = event.data
        keys = tuple(s.key() for s in scopes_for(event.network_id, event.site_id, hazard.training))
        return CommentRecord(
            comment_id=hazard.incident_id,
            network_id=event.network_id,
            scope_keys=keys,
            at=hazard.occurred_at,
            source=HAZARD_SOURCE,
            themes=(),
            negative=True,
            stems=(),
            event_id=event.id,
        )

    def _records(
        self,
        event: InputEvent,
        training: TrainingRef,
        at: datetime,
        found: list[Classification],
        texts: list[tuple[str, str]],
    ) -> list[CommentRecord]:
        keys = tuple(s.key() for s in scopes_for(event.network_id, event.site_id, training))
        source = "survey" if isinstance(event, SurveyResponseSubmittedV1) else "complaint"
        records = []
        for (comment_id, _), classified in zip(texts, found, strict=True):
            records.append(
                CommentRecord(
                    comment_id=comment_id,
                    network_id=event.network_id,
                    scope_keys=keys,
                    at=at,
                    source=source,
                    themes=classified.themes,
                    negative=classified.negative,
                    stems=classified.stems,
                    event_id=event.id,
                )
            )
        return records


def _texts(event: InputEvent) -> list[tuple[str, str]]:
    """The free texts of an event to classify, each with its comment id."""
    if isinstance(event, SurveyResponseSubmittedV1):
        response = event.data
        # Kept per response: a comment id alone names the form's question (the same in
        # every response to the form), so it would keep one comment per form.
        texts = [
            (response_comment_id(response.response_id, c.comment_id), c.text)
            for c in response.comments
        ]
        return texts + [
            (response_comment_id(response.response_id, a.question_id), a.value)
            for a in response.answers
            if isinstance(a, TextAnswer)
        ]
    if isinstance(event, ComplaintReceivedV1):
        complaint = event.data
        return [(complaint.complaint_id, f"{complaint.subject}. {complaint.description}")]
    return []


def subscribe(
    consumers: Consumers, handler: InputHandler, erasure: ErasureFollower | None = None
) -> None:
    """With ``erasure``, the same subscriber takes the privacy topic's erasure requests too
    (one consumer per group)."""
    handled = (*INPUT_EVENTS, SubjectErasureRequestedV1) if erasure else INPUT_EVENTS

    @consumers.subscriber(handles=handled)
    async def on_input(
        event: InputEvent | SubjectErasureRequestedV1, message: KafkaMessage
    ) -> None:
        if isinstance(event, SubjectErasureRequestedV1):
            if erasure is not None:
                await erasure.on_request(event)
            return
        record = message.raw_message
        assert not isinstance(record, tuple), "batch delivery is not used here"
        await handler.handle(event, Position(record.topic, record.partition, record.offset))
