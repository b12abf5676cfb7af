"""What makes an incoming fact an event: its identity and its envelope. Pure Python."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args

from boucle_collector.domain.identifiers import NOT_A_PSEUDONYM, looks_like_email
from boucle_collector.domain.person_names import FreeTextRedactor
from boucle_contracts.common import ContractModel
from boucle_contracts.envelope import Envelope
from boucle_contracts.feedback.v1 import (
    SurveyResponseSubmitted,
    SurveyResponseSubmittedV1,
    TextAnswer,
)
from boucle_contracts.incidents.v1 import (
    ComplaintReceived,
    ComplaintReceivedV1,
    HazardReported,
    HazardReportedV1,
)
from boucle_contracts.training.v1 import (
    DropoutRecorded,
    DropoutRecordedV1,
    EnrolmentRecorded,
    EnrolmentRecordedV1,
    SessionCompleted,
    SessionCompletedV1,
)

DataT = TypeVar("DataT", bound=ContractModel)

# Namespace of Boucle's deterministic event ids (uuid5). Never change it: ids already
# published would stop matching their re-submissions.
LONG_TEXT = 20_000  # LongText's maximum (free text of answers, comments, unmapped values)
EVENT_ID_NAMESPACE = uuid.UUID("6f1c7e0a-4b8e-5d2a-9c3f-b0c1e2d3f4a5")


def event_id_for(*, network_id: str, site_id: str, event_type: str, natural_id: str) -> str:
    """Same fact, same id: a re-submitted response or complaint is recognised downstream."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{network_id}|{site_id}|{event_type}|{natural_id}"))


@dataclass(frozen=True, slots=True)
class Intake:
    """One fact received for a site of a network, by a channel."""

    network_id: str
    site_id: str
    channel: str


@dataclass(frozen=True)  # no slots: slotted generic dataclasses break IntakeKind[T](...)
class IntakeKind(Generic[DataT]):
    """One kind of fact the collector takes in: its event class and what identifies it."""

    event_class: type[Envelope[DataT]]
    natural_id: Callable[[DataT], str]
    subject: Callable[[DataT], str]
    free_text: tuple[str, ...] = ()  # fields whose contacts and person names are redacted
    pseudonyms: tuple[str, ...] = ()  # fields that must hold a pseudonym, never an address

    def identity_errors(self, data: DataT) -> list[tuple[str, str]]:
        """(field, why) for each pseudonym field of ``data`` that holds an e-mail address."""
        return [
            (name, NOT_A_PSEUDONYM)
            for name in self.pseudonyms
            if isinstance(value := getattr(data, name), str) and looks_like_email(value)
        ]

    @property
    def data_class(self) -> type[DataT]:
        """The contract model of the event's data: what a caller sends for this kind."""
        return self.event_class.model_fields["data"].annotation  # type: ignore[return-value]

    def redact(self, data: DataT, redactor: FreeTextRedactor) -> DataT:
        """``data`` with contacts and person names masked in its free text (survey texts and
        comments too). CPU-bound with a model detector: call it off the event loop."""
        return self.redact_many([data], redactor)[0]

    def redact_many(self, items: Sequence[DataT], redactor: FreeTextRedactor) -> list[DataT]:
        """Each item redacted; the texts of all of them go to the redactor in one batch."""
        texts = [text for data in items for text in self._free_texts(data)]
        masked = iter(redactor.many(texts))
        return [self._with_texts(data, masked) for data in items]

    def _free_texts(self, data: DataT) -> list[str]:
        """Every free text of ``data``, in the order :meth:`_with_texts` puts them back."""
        texts = [v for name in self.free_text if isinstance(v := getattr(data, name), str)]
        if isinstance(data, SurveyResponseSubmitted):
            texts += [a.value for a in data.answers if isinstance(a, TextAnswer)]
            texts += [c.text for c in data.comments]
            texts += [u.raw_value for u in data.unmapped]
        return texts

    def _with_texts(self, data: DataT, masked: Iterator[str]) -> DataT:
        update: dict[str, Any] = {
            name: next(masked)[: _max_length(type(data), name)]
            for name in self.free_text
            if isinstance(getattr(data, name), str)
        }
        if isinstance(data, SurveyResponseSubmitted):
            update |= _redacted_survey(data, masked)
        return data.model_copy(update=update) if update else data

    def envelope(self, data: DataT, *, intake: Intake) -> Envelope[DataT]:
        natural_id = self.natural_id(data)
        return self.event_class.create(
            data=data,
            network_id=intake.network_id,
            site_id=intake.site_id,
            source=f"/collector/{intake.channel}",
            event_id=event_id_for(
                network_id=intake.network_id,
                site_id=intake.site_id,
                event_type=self.event_class.EVENT_TYPE,
                natural_id=natural_id,
            ),
            subject=self.subject(data),
        )


def _max_length(model: type[ContractModel], name: str) -> int | None:
    """The field's maximum length: a mask longer than what it hides must not break it."""
    field = model.model_fields[name]
    constraints = list(field.metadata)
    for member in get_args(field.annotation):  # Optional[LongText]: the constraints are inside
        constraints += getattr(member, "__metadata__", ())
    limits = [c.max_length for c in constraints if isinstance(getattr(c, "max_length", None), int)]
    return min(limits, default=None)


def _redacted_survey(data: SurveyResponseSubmitted, masked: Iterator[str]) -> dict[str, Any]:
    """The survey's texts replaced, in ``_free_texts`` order, by the next masked ones."""

    def text() -> str:
        return next(masked)[:LONG_TEXT]

    return {
        "answers": tuple(
            a.model_copy(update={"value": text()}) if isinstance(a, TextAnswer) else a
            for a in data.answers
        ),
        "comments": tuple(c.model_copy(update={"text": text()}) for c in data.comments),
        "unmapped": tuple(u.model_copy(update={"raw_value": text()}) for u in data.unmapped),
    }


SURVEY_RESPONSE = IntakeKind[SurveyResponseSubmitted](
    SurveyResponseSubmittedV1,
    lambda d: d.response_id,
    lambda d: f"survey-response/{d.response_id}",
    pseudonyms=("respondent_ref",),
)
COMPLAINT = IntakeKind[ComplaintReceived](
    ComplaintReceivedV1,
    lambda d: d.complaint_id,
    lambda d: f"complaint/{d.complaint_id}",
    free_text=("subject", "description"),
    pseudonyms=("complainant_ref",),
)
HAZARD = IntakeKind[HazardReported](
    HazardReportedV1,
    lambda d: d.incident_id,
    lambda d: f"{d.kind.value}/{d.incident_id}",
    free_text=("summary", "description"),
)
ENROLMENT = IntakeKind[EnrolmentRecorded](
    EnrolmentRecordedV1,
    lambda d: d.enrolment_id,
    lambda d: f"enrolment/{d.enrolment_id}",
    pseudonyms=("learner_ref",),
)
SESSION_COMPLETED = IntakeKind[SessionCompleted](
    SessionCompletedV1, lambda d: d.session_id, lambda d: f"session/{d.session_id}"
)
DROPOUT = IntakeKind[DropoutRecorded](
    DropoutRecordedV1,
    lambda d: d.enrolment_id,
    lambda d: f"dropout/{d.enrolment_id}",
    free_text=("reason_detail",),
    pseudonyms=("learner_ref",),
)
ALL_KINDS: tuple[IntakeKind[Any], ...] = (
    SURVEY_RESPONSE,
    COMPLAINT,
    HAZARD,
    ENROLMENT,
    SESSION_COMPLETED,
    DROPOUT,
)
