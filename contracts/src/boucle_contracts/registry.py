"""Every event type of the contracts, the topics they travel on, and how to decode them."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from boucle_contracts import (
    actions,
    cases,
    feedback,
    incidents,
    metrics,
    privacy,
    problems,
    referential,
    signals,
    solicitations,
    training,
)
from boucle_contracts.actions import v1 as actions_v1
from boucle_contracts.cases import v1 as cases_v1
from boucle_contracts.envelope import Envelope
from boucle_contracts.feedback import v1 as feedback_v1
from boucle_contracts.incidents import v1 as incidents_v1
from boucle_contracts.metrics import v1 as metrics_v1
from boucle_contracts.privacy import v1 as privacy_v1
from boucle_contracts.problems import v1 as problems_v1
from boucle_contracts.referential import v1 as referential_v1
from boucle_contracts.signals import v1 as signals_v1
from boucle_contracts.solicitations import v1 as solicitations_v1
from boucle_contracts.training import v1 as training_v1

del (
    actions,
    cases,
    feedback,
    incidents,
    metrics,
    privacy,
    problems,
    referential,
    signals,
    solicitations,
    training,
)

if TYPE_CHECKING:
    AnyEvent = Envelope[Any]
else:
    # At run time the bare class: pydantic then passes any concrete event instance through
    # unchanged, where ``Envelope[Any]`` would re-validate it into a different class.
    AnyEvent = Envelope

ALL_EVENTS: tuple[type[AnyEvent], ...] = (
    *feedback_v1.EVENTS,
    *incidents_v1.EVENTS,
    *training_v1.EVENTS,
    *metrics_v1.EVENTS,
    *signals_v1.EVENTS,
    *problems_v1.EVENTS,
    *cases_v1.EVENTS,
    *actions_v1.EVENTS,
    *referential_v1.EVENTS,
    *privacy_v1.EVENTS,
    *solicitations_v1.EVENTS,
)

EVENTS_BY_TYPE: MappingProxyType[str, type[AnyEvent]] = MappingProxyType(
    {cls.EVENT_TYPE: cls for cls in ALL_EVENTS}
)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic of the layout: name, default partitions, and whether it may be compacted."""

    name: str
    partitions: int
    compacted: bool = False
    description: str = ""


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(feedback_v1.TOPIC, 12, description="Survey responses from every channel."),
    TopicSpec(incidents_v1.TOPIC, 6, description="Complaints, hazards and difficulties."),
    TopicSpec(training_v1.TOPIC, 6, description="Enrolments, session completions, dropouts."),
    # Not compacted: its key is the site, so compaction would drop other scopes' figures.
    TopicSpec(metrics_v1.TOPIC, 6, description="Analyzer figures per scope and period."),
    TopicSpec(signals_v1.TOPIC, 3, description="Degradations detected and resolved."),
    TopicSpec(problems_v1.TOPIC, 3, description="Problems: degradations grouped by cause."),
    TopicSpec(cases_v1.TOPIC, 3, description="Complaint and incident case lifecycle."),
    TopicSpec(actions_v1.TOPIC, 3, description="Improvement action lifecycle and evaluations."),
    TopicSpec(referential_v1.TOPIC, 1, description="Names of sites, programmes and people."),
    TopicSpec(
        solicitations_v1.TOPIC, 3, description="Collection plans and who was asked what, when."
    ),
    TopicSpec(privacy_v1.TOPIC, 3, description="Data subjects' erasure requests (pseudonyms)."),
)


def events_on(topic: str) -> tuple[type[AnyEvent], ...]:
    return tuple(cls for cls in ALL_EVENTS if topic == cls.TOPIC)


def dead_letter_topic(consumer_group: str) -> str:
    """Where a consumer group parks messages it can never process."""
    return f"boucle.deadletter.{consumer_group}"


class UnknownEventTypeError(ValueError):
    def __init__(self, event_type: object) -> None:
        known = ", ".join(sorted(EVENTS_BY_TYPE))
        super().__init__(f"unknown event type {event_type!r}; known types: {known}")


_TYPE_PEEK = TypeAdapter(dict[str, Any])


def decode_event(payload: bytes) -> AnyEvent:
    """Parse one structured-mode CloudEvent into its concrete class.

    Raises ``pydantic.ValidationError`` (malformed JSON or contract violation) or
    ``UnknownEventTypeError``; both mean the message can never be processed as it is.
    """
    document = _TYPE_PEEK.validate_json(payload)
    type_ = document.get("type")
    cls = EVENTS_BY_TYPE.get(type_) if isinstance(type_, str) else None
    if cls is None:
        raise UnknownEventTypeError(type_)
    return cls.model_validate(document)
