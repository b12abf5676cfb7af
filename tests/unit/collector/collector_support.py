"""Test support of the collector: an in-memory sink, the app around it, test integrations.

``create_app`` would connect to Kafka; ``wire_intake`` builds the very same routes,
middleware and error answers around any ``EventSink``. Fixtures are in conftest.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from boucle_collector.app import IntakeWiring, install_intake, wire_intake
from boucle_collector.domain.integrations import hash_key
from boucle_collector.domain.person_names import NameDetector
from boucle_collector.metrics import CollectorMetrics
from boucle_collector.settings import CollectorSettings
from boucle_contracts.registry import AnyEvent

PSEUDONYM_SECRET = "a-test-secret-of-32-bytes-length"
SECRETS = {
    "TF_SECRET_OLD": "typeform-old-secret",
    "TF_SECRET_NEW": "typeform-new-secret",
    "TALLY_SECRET": "tally-secret",
    "SM_SECRET": "sm-api-key&sm-api-secret",
    "SM_TOKEN": "sm-access-token",
    "FB_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "KOBO_CREDENTIALS": "boucle:kobo-password",
    "JOTFORM_TOKEN": "jotform-url-token-1",
}
KEYS = {"lyon-1": "key-lyon-1", "lyon-2": "key-lyon-2", "network": "key-network-wide"}
LEARNER_SURVEY: dict[str, Any] = {
    "site_id": "site-a",
    "survey_kind": "hot",
    "respondent_role": "learner",
    "programme_id": "prog-1",
}
API_INTEGRATIONS: list[dict[str, Any]] = [
    {
        "id": "tms-lyon",
        "platform": "api",
        "network_id": "net-1",
        "sites": ["site-a"],
        "api_keys": [
            {"id": "lyon-1", "sha256": hash_key(KEYS["lyon-1"])},
            {"id": "lyon-2", "sha256": hash_key(KEYS["lyon-2"])},
        ],
        "forms": {
            "paper-hot": {
                "site_id": "site-a",
                "survey_kind": "hot",
                "respondent_role": "learner",
                "id_column": "N° questionnaire",
                "submitted_at_column": "Date",
                "questions": {
                    "Note globale": {"answer_type": "scale", "dimension": "overall"},
                    "Formateur": {"answer_type": "scale", "dimension": "trainer"},
                    "Commentaire": {"role": "comment"},
                    "Email": {"role": "respondent_email"},
                },
            }
        },
    },
    {
        "id": "quality-team",
        "platform": "api",
        "network_id": "net-1",
        "sites": ["*"],
        "api_keys": [{"id": "network", "sha256": hash_key(KEYS["network"])}],
    },
]


class Sink:
    """Kafka stand-in: keeps events, or fails, or never answers."""

    def __init__(self) -> None:
        self.events: list[AnyEvent] = []
        self.mode = "ok"

    async def publish(self, event: AnyEvent) -> None:
        if self.mode == "fail":
            raise ConnectionError("broker down")
        if self.mode == "hang":
            await asyncio.Event().wait()
        self.events.append(event)


@dataclass
class Collector:
    client: TestClient
    sink: Sink
    registry: CollectorRegistry
    wiring: IntakeWiring
    integrations_file: Path | None

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def accepted(self, event_type: str, channel: str = "api") -> float:
        labels = {"event_type": event_type, "channel": channel}
        return self.sample("boucle_collector_accepted_events_total", **labels)

    def rejected(self, reason: str, channel: str = "api") -> float:
        return self.sample(
            "boucle_collector_rejected_requests_total", reason=reason, channel=channel
        )


MakeCollector = Callable[..., Collector]


def write_integrations(path: Path, integrations: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"integrations": integrations}), encoding="utf-8")
    return path


def _form(questions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return LEARNER_SURVEY | {"questions": questions} | extra


WEBHOOK_INTEGRATIONS: list[dict[str, Any]] = [
    {
        "id": "tf-lyon",
        "platform": "typeform",
        "network_id": "net-1",
        "sites": ["site-a", "site-b"],
        "secrets": [{"env": "TF_SECRET_OLD"}, {"env": "TF_SECRET_NEW"}],
        "forms": {
            "lT4Z3j": _form(
                {
                    "overall_rating": {"answer_type": "scale", "dimension": "overall"},
                    "nps": {"answer_type": "nps"},
                    "DlXFaesGBpoF": {"answer_type": "choice", "dimension": "trainer"},
                    "comment": {"role": "comment", "dimension": "content"},
                    "email": {"role": "respondent_email"},
                    "site": {"role": "site_id"},
                    "session": {"role": "session_id"},
                },
                site_id=None,
            )
        },
    },
    {
        "id": "tally-lyon",
        "platform": "tally",
        "network_id": "net-1",
        "sites": ["site-a"],
        "secrets": [{"env": "TALLY_SECRET"}],
        "forms": {
            "nP9995": _form({"question_rjkPRl": {"answer_type": "text"}}),
            "w7Xb2k": _form(
                {
                    "question_rating": {"answer_type": "scale", "dimension": "overall"},
                    "question_linear": {
                        "answer_type": "scale",
                        "dimension": "platform",
                        "scale_min": 0,
                        "scale_max": 10,
                    },
                    "question_choice": {"answer_type": "choice", "dimension": "organisation"},
                    "question_checkboxes": {"answer_type": "choice", "dimension": "materials"},
                    "question_comment": {"role": "comment"},
                    "question_name": {"role": "respondent_name"},
                    "session": {"role": "session_id"},
                },
            ),
            "anon01": _form({"question_rating": {"answer_type": "scale"}}, anonymous=True),
        },
    },
    {
        "id": "sm-lyon",
        "platform": "surveymonkey",
        "network_id": "net-1",
        "sites": ["site-a"],
        "secrets": [{"env": "SM_SECRET"}],
        "access_token": {"env": "SM_TOKEN"},
        "forms": {
            "123456789": _form(
                {
                    "319352786": {
                        "answer_type": "scale",
                        "dimension": "overall",
                        "choices": {
                            "Très satisfait": 5,
                            "Satisfait": 4,
                            "Moyennement satisfait": 3,
                            "Insatisfait": 2,
                            "Très insatisfait": 1,
                        },
                    },
                    "319352790.9001": {"answer_type": "scale", "dimension": "trainer"},
                    "319352790.9002": {"answer_type": "scale", "dimension": "materials"},
                    "319352787": {"role": "comment"},
                    "319352788": {"answer_type": "choice", "dimension": "organisation"},
                }
            )
        },
    },
    {
        "id": "fb-lyon",
        "platform": "formbricks",
        "network_id": "net-1",
        "sites": ["site-a"],
        "secrets": [{"env": "FB_SECRET"}],
        "forms": {
            "clsurvey01": _form(
                {
                    "rating": {"answer_type": "scale", "dimension": "overall"},
                    "nps": {"answer_type": "nps"},
                    "feedback": {"role": "comment"},
                    "topics": {"answer_type": "choice", "dimension": "content"},
                }
            )
        },
    },
    {
        "id": "kobo-lyon",
        "platform": "kobotoolbox",
        "network_id": "net-1",
        "sites": ["site-a"],
        "secrets": [{"env": "KOBO_CREDENTIALS"}],
        "forms": {
            "aW8kLmPq2": _form(
                {
                    "satisfaction": {"answer_type": "scale", "dimension": "overall"},
                    "supports": {
                        "answer_type": "choice",
                        "multiple": True,
                        "choices": {"livret": "Livret", "video": "Vidéos"},
                    },
                    "grp_avis/commentaire": {"role": "comment"},
                },
                respondent_role="company",
            )
        },
    },
    {
        "id": "jotform-lyon",
        "platform": "jotform",
        "network_id": "net-1",
        "sites": ["site-a"],
        "secrets": [{"env": "JOTFORM_TOKEN"}],
        "forms": {
            "230000000000": _form(
                {
                    "noteGlobale": {"answer_type": "scale", "dimension": "overall"},
                    "7": {"answer_type": "nps"},
                    "q6_commentaire": {"role": "comment"},
                    "name": {"role": "respondent_name"},
                    "points": {"answer_type": "choice", "dimension": "organisation"},
                },
            )
        },
    },
]


def build_collector(
    tmp_path: Path,
    integrations: list[dict[str, Any]] | None,
    *,
    name_detector: NameDetector | None = None,
    **settings: Any,
) -> Collector:
    """The collector's routes around a Sink; ``integrations`` None = no file (open API);
    ``name_detector`` finds person names in free text (None: the rule only, no model)."""
    path = None
    if integrations is not None:
        path = write_integrations(tmp_path / "integrations.json", integrations)
    values: dict[str, Any] = {
        "publish_timeout_seconds": 0.05,
        "integrations_file": path,
        "pseudonymisation_secret": PSEUDONYM_SECRET,
        "rate_limit_per_second": 1000.0,
        "rate_limit_burst": 1000,
    }
    config = CollectorSettings(_env_file=None, **(values | settings))
    sink, registry = Sink(), CollectorRegistry()
    wiring = wire_intake(
        config,
        publisher=sink,
        metrics=CollectorMetrics(registry),
        environ=SECRETS,
        name_detector=name_detector,
    )
    wiring.integrations.load()
    app = FastAPI()
    for router in wiring.routers:
        app.include_router(router)
    install_intake(app, config, wiring)
    return Collector(TestClient(app), sink, registry, wiring, path)
