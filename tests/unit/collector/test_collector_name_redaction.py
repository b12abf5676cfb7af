"""Person names in free text, masked by the intake before anything is published (issue 18).

A fake detector stands for spaCy's model here (the real one runs in
``tests/integration/test_collector_names_model.py``): what is tested is the wiring (every
free text of every kind goes through it, off the event loop, in batches on bulk paths) and
the cheap passes that need no model (the respondent's own fields, the civility/role rule).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from boucle_collector.adapters.spacy_names import SpacyNameDetector
from boucle_collector.adapters.webhook_formats import tally
from boucle_collector.app import name_detector_for
from boucle_collector.domain.intake import COMPLAINT, HAZARD, SURVEY_RESPONSE, Intake
from boucle_collector.domain.integrations import Integration
from boucle_collector.domain.person_names import FreeTextRedactor, NameSpan
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.domain.response_mapping import PlatformResponse, RawField, map_response
from boucle_collector.intake_publisher import IntakePublisher
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.settings import CollectorSettings
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import Comment, SurveyResponseSubmittedV1, TextAnswer
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from boucle_contracts.registry import AnyEvent
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    KEYS,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    MakeCollector,
)

pytestmark = pytest.mark.unit

API = Intake(network_id="net-1", site_id="site-a", channel="api")
PSEUDONYMS = Pseudonymiser(b"name-redaction-test-secret-0123")
TOKEN = re.compile(r"\[nom p-[0-9a-f]{10}\]")


class FakeDetector:
    """Knows a fixed list of first names, as the model would; records how it was called."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.threads: set[str] = set()
        self.batches: list[int] = []

    def person_names(self, text: str) -> list[NameSpan]:
        return self.person_names_many([text])[0]

    def person_names_many(self, texts: Sequence[str]) -> list[list[NameSpan]]:
        self.threads.add(threading.current_thread().name)
        self.batches.append(len(texts))
        return [
            [NameSpan(m.start(), m.end()) for n in self.names for m in re.finditer(n, text)]
            for text in texts
        ]


class ListSink:
    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    async def publish(self, event: AnyEvent) -> None:
        self.events.append(event)


def publisher(sink: ListSink, detector: FakeDetector | None) -> IntakePublisher:
    return IntakePublisher(
        sink=sink,
        metrics=CollectorMetrics(CollectorRegistry()),
        timeout_seconds=1,
        redactor=FreeTextRedactor(detector, PSEUDONYMS),
    )


async def test_names_in_a_complaint_and_a_comment_are_masked_before_publication() -> None:
    sink, detector = ListSink(), FakeDetector("Théophile")
    intake = publisher(sink, detector)
    complaint = example_of(ComplaintReceivedV1).data.model_copy(
        update={
            "subject": "Mme Durand ne répond jamais",
            "description": "Théophile a promis de rappeler, Mme Durand aussi.",
        }
    )
    response = example_of(SurveyResponseSubmittedV1).data.model_copy(
        update={"comments": (Comment(comment_id="c-1", text="merci à Julien"),)}
    )

    await intake.accept(COMPLAINT, API, complaint)
    await intake.accept(SURVEY_RESPONSE, API, response)

    published = " ".join(e.to_json_bytes().decode() for e in sink.events)
    for name in ("Durand", "Julien", "Théophile"):
        assert name not in published
    complaint_event, response_event = sink.events
    durand = TOKEN.fullmatch(complaint_event.data.subject.split(" ne ")[0].removeprefix("Mme "))
    assert durand is not None
    # one person, one token, wherever named
    assert complaint_event.data.description.endswith(f"Mme {durand.group()} aussi.")
    assert TOKEN.search(response_event.data.comments[0].text)
    # the model ran, and not on the event loop's thread
    assert detector.threads
    assert threading.main_thread().name not in detector.threads


async def test_every_free_text_of_a_hazard_and_a_survey_goes_through_the_detector() -> None:
    sink, detector = ListSink(), FakeDetector("Margaux")
    intake = publisher(sink, detector)
    hazard = example_of(HazardReportedV1).data.model_copy(
        update={"summary": "Margaux absente", "description": "Margaux est malade"}
    )
    base = example_of(SurveyResponseSubmittedV1).data
    text_answer = TextAnswer(type="text", question_id="q-t", value="Margaux explique bien")
    response = base.model_copy(
        update={
            "answers": (*base.answers, text_answer),
            "comments": (Comment(comment_id="c-1", text="Margaux est top"),),
        }
    )

    await intake.accept(HAZARD, API, hazard)
    await intake.accept(SURVEY_RESPONSE, API, response)

    assert "Margaux" not in " ".join(e.to_json_bytes().decode() for e in sink.events)


async def test_without_a_detector_the_rule_still_masks_cued_names_on_the_loop() -> None:
    sink = ListSink()
    complaint = example_of(ComplaintReceivedV1).data.model_copy(
        update={"description": "Mme Durand ne répond jamais; merci à julien quand même"}
    )

    await publisher(sink, None).accept(COMPLAINT, API, complaint)

    (event,) = sink.events
    assert "Durand" not in event.data.description
    assert "julien" not in event.data.description


def test_a_bulk_request_goes_through_the_model_in_batches(make_collector: MakeCollector) -> None:
    detector = FakeDetector("Zarzecki")
    collector = make_collector(integrations=API_INTEGRATIONS, name_detector=detector)
    complaint = example_of(ComplaintReceivedV1).data
    lines = [
        complaint.model_copy(
            update={"complaint_id": f"cmp-{i}", "description": f"{i}: M. Zarzecki est injoignable"}
        ).model_dump_json()
        for i in range(40)
    ]

    reply = collector.client.post(
        "/v1/bulk/networks/net-1/sites/site-a/complaints",
        content="\n".join(lines),
        headers={"x-api-key": KEYS["lyon-1"], "content-type": "application/x-ndjson"},
    )

    assert reply.status_code == 200, reply.text
    assert reply.json()["accepted"] == 40
    assert "Zarzecki" not in " ".join(e.to_json_bytes().decode() for e in collector.sink.events)
    # 40 complaints, 2 texts each: two calls of the model (32 + 8 complaints), not 80
    assert detector.batches == [64, 16]


def test_the_respondents_own_name_in_a_comment_is_masked_without_the_model(
    make_collector: MakeCollector,
) -> None:
    collector = make_collector(integrations=API_INTEGRATIONS + WEBHOOK_INTEGRATIONS)
    payload: dict[str, Any] = {
        "eventId": "e-1",
        "eventType": "FORM_RESPONSE",
        "createdAt": "2025-03-18T10:00:01.000Z",
        "data": {
            "responseId": "own-name",
            "formId": "w7Xb2k",
            "createdAt": "2025-03-18T10:00:00.000Z",
            "fields": [
                {"key": "question_rating", "label": "Note", "type": "RATING", "value": 4},
                {
                    "key": "question_comment",
                    "label": "Commentaire",
                    "type": "TEXTAREA",
                    "value": "Moi, Bérangère (quintaval pour l'administration), je recommande",
                },
                {
                    "key": "question_name",
                    "label": "Nom",
                    "type": "INPUT_TEXT",
                    "value": "Bérangère Quintaval",
                },
            ],
        },
    }
    body = json.dumps(payload).encode()

    reply = collector.client.post(
        "/v1/webhooks/tally/tally-lyon",
        content=body,
        headers={"Tally-Signature": tally.sign(SECRETS["TALLY_SECRET"], body)},
    )

    assert reply.status_code == 200, reply.text
    (event,) = collector.sink.events
    text = event.data.comments[0].text
    assert "rangère" not in text, text
    assert "quintaval" not in text.casefold(), text
    assert len(TOKEN.findall(text)) == 2


def _integration() -> Integration:
    return Integration.model_validate(
        {
            "id": "i1",
            "platform": "jotform",
            "network_id": "n",
            "sites": ["s1"],
            "secrets": [{"env": "X"}],
            "forms": {
                "F": {
                    "site_id": "s1",
                    "survey_kind": "hot",
                    "respondent_role": "learner",
                    "questions": {
                        "q1": {"answer_type": "scale"},
                        "avis": {"role": "comment"},
                        "texte": {"answer_type": "text"},
                        "mail": {"role": "respondent_email"},
                        "name": {"role": "respondent_name"},
                    },
                }
            },
        }
    )


def _response(response_id: str, *fields: RawField) -> PlatformResponse:
    return PlatformResponse(
        platform="jotform",
        form_id="F",
        response_id=response_id,
        submitted_at=datetime(2025, 3, 18, tzinfo=UTC),
        fields=(RawField("q1", 4), *fields),
    )


def test_names_from_the_name_and_email_fields_are_masked_in_every_text() -> None:
    mapped = map_response(
        _response(
            "R1",
            # Jotform's {first, last} name arrives joined
            RawField("name", "Théophile Zarzecki"),
            RawField("mail", "helene.nguyen-martin@exemple.fr"),
            RawField("avis", "Signé THEOPHILE; écrire à Hélène Nguyen-Martin"),
            RawField("texte", "zarzecki, élève de la promo"),
        ),
        integration=_integration(),
        pseudonymiser=PSEUDONYMS,
    )

    published = mapped.data.model_dump_json()
    for clear in ("THEOPHILE", "Hélène", "Nguyen", "zarzecki", "Zarzecki", "Théophile"):
        assert clear not in published
    assert mapped.data.respondent_ref is not None  # still pseudonymised as before


def test_each_comment_of_each_response_has_its_own_id() -> None:
    first, second = (
        map_response(
            _response(rid, RawField("avis", "Très bien")),
            integration=_integration(),
            pseudonymiser=PSEUDONYMS,
        ).data
        for rid in ("R1", "R2")
    )

    assert first.comments[0].comment_id == f"{first.response_id}:avis" == "jotform:F:R1:avis"
    assert second.comments[0].comment_id == "jotform:F:R2:avis"


def test_a_comment_id_stays_an_identifier_when_the_platform_ids_are_not() -> None:
    mapped = map_response(
        _response("réponse n°7", RawField("avis", "Très bien")),
        integration=_integration(),
        pseudonymiser=PSEUDONYMS,
    ).data

    (comment,) = mapped.comments
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}", comment.comment_id)
    assert comment.comment_id != mapped.response_id


def test_the_model_is_the_default_and_rules_can_be_chosen() -> None:
    default = name_detector_for(CollectorSettings(_env_file=None))
    assert isinstance(default, SpacyNameDetector)
    assert name_detector_for(CollectorSettings(_env_file=None, name_detection="rules")) is None
