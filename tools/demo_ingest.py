"""The demo's ingestion: an integrations file, and each fact sent the way a real sender would.

Learners' hot surveys arrive as signed webhooks (Typeform for some sites, Tally for others,
in each platform's documented format, signed as the collector's adapters verify); the other
survey responses and the enrolments as bulk NDJSON; complaints, hazards and dropouts one by
one through the native API. Senders on the native API use an API key whose SHA-256 only is
in the file; webhook secrets are in environment variables the file references.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from boucle_collector.adapters.webhook_formats import tally, typeform
from boucle_contracts.feedback.v1 import ScaleAnswer, SurveyKind, SurveyResponseSubmitted
from tools.sample_network import DIMENSIONS, SampleNetwork, Submission, referential

TYPEFORM_FORM = "hotTypeform"
TALLY_FORM = "hotTally"
SEND_ATTEMPTS = 20
BULK_LINES = 500
HIDDEN = ("site", "session", "trainer")


@dataclass(frozen=True)
class Credentials:
    """What the senders hold: the API key and the platforms' webhook secrets."""

    api_key: str
    typeform_secret: str
    tally_secret: str

    @classmethod
    def new(cls) -> Credentials:
        return cls(*(secrets.token_urlsafe(24) for _ in range(3)))

    def collector_env(self, integrations_file: Path) -> dict[str, str]:
        return {
            "BOUCLE_COLLECTOR_INTEGRATIONS_FILE": str(integrations_file),
            "DEMO_TYPEFORM_SECRET": self.typeform_secret,
            "DEMO_TALLY_SECRET": self.tally_secret,
        }


def _form(questions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "survey_kind": "hot",
        "respondent_role": "learner",
        "anonymous": True,
        "programme_id": "prog-gestion-projet",
        "questions": questions,
    }


def _hidden_roles(keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    roles = {"site": "site_id", "session": "session_id", "trainer": "trainer_id"}
    return {keys[name]: {"role": roles[name]} for name in HIDDEN}


def _scale(dimension: str) -> dict[str, Any]:
    return {"answer_type": "scale", "dimension": dimension, "scale_min": 1, "scale_max": 5}


def write_integrations(folder: Path, network: SampleNetwork, credentials: Credentials) -> Path:
    """The collector's integrations file (no secret in it: key hashes, env references)."""
    typeform_questions = {f"tf-{d}": _scale(d) for d in DIMENSIONS} | {
        "tf-comment": {"role": "comment"}
    }
    tally_questions = {f"question_{d}": _scale(d) for d in DIMENSIONS} | {
        "question_comment": {"role": "comment"}
    }
    document = {
        "integrations": [
            {
                "id": "demo-tms",
                "platform": "api",
                "network_id": network.network_id,
                "sites": ["*"],
                "api_keys": [
                    {
                        "id": "demo",
                        "sha256": hashlib.sha256(credentials.api_key.encode()).hexdigest(),
                    }
                ],
            },
            {
                "id": "demo-typeform",
                "platform": "typeform",
                "network_id": network.network_id,
                "sites": ["*"],
                "secrets": [{"env": "DEMO_TYPEFORM_SECRET"}],
                "forms": {
                    TYPEFORM_FORM: _form(typeform_questions | _hidden_roles({h: h for h in HIDDEN}))
                },
            },
            {
                "id": "demo-tally",
                "platform": "tally",
                "network_id": network.network_id,
                "sites": ["*"],
                "secrets": [{"env": "DEMO_TALLY_SECRET"}],
                "forms": {
                    TALLY_FORM: _form(
                        tally_questions | _hidden_roles({h: f"question_h_{h}" for h in HIDDEN})
                    )
                },
            },
        ]
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "integrations.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def _hidden(response: SurveyResponseSubmitted, site: str) -> dict[str, str]:
    training = response.training
    return {
        "site": site,
        "session": training.session_id or "",
        "trainer": training.trainer_ids[0] if training.trainer_ids else "",
    }


def _scales(response: SurveyResponseSubmitted) -> dict[str, int]:
    return {str(a.dimension): int(a.value) for a in response.answers if isinstance(a, ScaleAnswer)}


def typeform_payload(response: SurveyResponseSubmitted, site: str) -> dict[str, Any]:
    """A ``form_response`` webhook as Typeform documents it."""
    answers: list[dict[str, Any]] = [
        {"type": "number", "number": value, "field": {"id": f"tf-{d}", "type": "opinion_scale"}}
        for d, value in _scales(response).items()
    ]
    answers += [
        {"type": "text", "text": c.text, "field": {"id": "tf-comment", "type": "long_text"}}
        for c in response.comments
    ]
    return {
        "event_id": f"ev-{response.response_id}",
        "event_type": "form_response",
        "form_response": {
            "form_id": TYPEFORM_FORM,
            "token": response.response_id,
            "submitted_at": response.submitted_at.isoformat().replace("+00:00", "Z"),
            "landed_at": response.submitted_at.isoformat().replace("+00:00", "Z"),
            "hidden": _hidden(response, site),
            "definition": {
                "id": TYPEFORM_FORM,
                "title": "Satisfaction à chaud",
                "fields": [
                    {"id": f"tf-{d}", "title": f"Note {d}", "type": "opinion_scale"}
                    for d in DIMENSIONS
                ],
            },
            "answers": answers,
        },
    }


def tally_payload(response: SurveyResponseSubmitted, site: str) -> dict[str, Any]:
    """A ``FORM_RESPONSE`` webhook as Tally documents it."""
    fields: list[dict[str, Any]] = [
        {"key": f"question_{d}", "label": f"Note {d}", "type": "RATING", "value": value}
        for d, value in _scales(response).items()
    ]
    fields += [
        {"key": "question_comment", "label": "Commentaire", "type": "TEXTAREA", "value": c.text}
        for c in response.comments
    ]
    fields += [
        {"key": f"question_h_{k}", "label": k, "type": "HIDDEN_FIELDS", "value": v}
        for k, v in _hidden(response, site).items()
    ]
    at = response.submitted_at.isoformat().replace("+00:00", "Z")
    return {
        "eventId": f"ev-{response.response_id}",
        "eventType": "FORM_RESPONSE",
        "createdAt": at,
        "data": {
            "responseId": response.response_id,
            "submissionId": response.response_id,
            "formId": TALLY_FORM,
            "formName": "Satisfaction à chaud",
            "createdAt": at,
            "fields": fields,
        },
    }


def channel_of(network: SampleNetwork, item: Submission) -> str:
    """How a fact reaches the collector: ``typeform``, ``tally``, ``bulk`` or ``api``."""
    if item.path == "survey-responses":
        response = item.payload
        assert isinstance(response, SurveyResponseSubmitted)
        if response.survey_kind is SurveyKind.HOT and response.respondent_role == "learner":
            return "typeform" if network.sites.index(item.site_id) % 2 == 0 else "tally"
        return "bulk"
    return "bulk" if item.path == "enrolments" else "api"


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]
    lines: int  # facts carried


class Sender:
    """Sends the sample's facts to the collector; counts what it accepted, per channel."""

    def __init__(self, network: SampleNetwork, credentials: Credentials, base_url: str) -> None:
        self.network = network
        self.credentials = credentials
        self.base_url = base_url
        self.accepted: Counter[str] = Counter()  # by path (kind of fact)
        self.channels: Counter[str] = Counter()

    def requests(self, submissions: list[Submission]) -> list[tuple[Request, str, str]]:
        n = self.network.network_id
        key = {"x-api-key": self.credentials.api_key}
        out: list[tuple[Request, str, str]] = []
        bulk: defaultdict[tuple[str, str], list[bytes]] = defaultdict(list)
        for item in submissions:
            channel = channel_of(self.network, item)
            payload = item.payload
            if channel in {"typeform", "tally"}:
                assert isinstance(payload, SurveyResponseSubmitted)
                builder: Callable[[SurveyResponseSubmitted, str], dict[str, Any]]
                builder = typeform_payload if channel == "typeform" else tally_payload
                body = json.dumps(builder(payload, item.site_id), ensure_ascii=False).encode()
                if channel == "typeform":
                    header = {
                        "typeform-signature": typeform.sign(self.credentials.typeform_secret, body)
                    }
                else:
                    header = {"tally-signature": tally.sign(self.credentials.tally_secret, body)}
                url = f"/v1/webhooks/{channel}/demo-{channel}"
                request = Request(url, body, header | {"content-type": "application/json"}, 1)
                out.append((request, channel, item.path))
            elif channel == "api":
                url = f"/v1/networks/{n}/sites/{item.site_id}/{item.path}"
                body = payload.model_dump_json(exclude_none=True).encode()
                headers = key | {"content-type": "application/json"}
                out.append((Request(url, body, headers, 1), channel, item.path))
            else:
                bulk[(item.site_id, item.path)].append(
                    payload.model_dump_json(exclude_none=True).encode()
                )
        for (site, path), lines in bulk.items():
            for start in range(0, len(lines), BULK_LINES):
                chunk = lines[start : start + BULK_LINES]
                url = f"/v1/bulk/networks/{n}/sites/{site}/{path}"
                headers = key | {"content-type": "application/x-ndjson"}
                out.append(
                    (Request(url, b"\n".join(chunk) + b"\n", headers, len(chunk)), "bulk", path)
                )
        return out

    async def send_referential(self) -> Counter[str]:
        """The network's names (sites, programme, people) to ``PUT …/referential``, as a
        TMS would: the count of entries sent, by list."""
        document = referential(self.network)
        url = f"/v1/networks/{self.network.network_id}/referential"
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as http:
            body = json.dumps(document, ensure_ascii=False).encode()
            headers = {"x-api-key": self.credentials.api_key, "content-type": "application/json"}
            reply = await _put(http, Request(url, body, headers, 0))
        if reply.status_code != 200:
            raise RuntimeError(f"{url} answered {reply.status_code}: {reply.text[:500]}")
        return Counter({name: len(entries) for name, entries in document.items()})

    async def send_all(self, submissions: list[Submission], progress: Progress) -> None:
        work = self.requests(submissions)
        task = progress.add_task(
            "Envoi au collecteur (webhooks, bulk, API)", total=len(submissions)
        )
        queue: asyncio.Queue[tuple[Request, str, str]] = asyncio.Queue()
        for item in work:
            queue.put_nowait(item)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as http:

            async def worker() -> None:
                while not queue.empty():
                    request, channel, path = queue.get_nowait()
                    reply = await _post(http, request)
                    if reply.status_code not in {200, 202}:  # 200: a duplicate, already accepted
                        raise RuntimeError(
                            f"{request.url} answered {reply.status_code}: {reply.text[:500]}"
                        )
                    if channel == "bulk":
                        summary = reply.json()
                        if summary["invalid"] or summary["unavailable"]:
                            raise RuntimeError(f"{request.url}: {summary['items'][:3]}")
                    self.accepted[path] += request.lines
                    self.channels[channel] += request.lines
                    progress.advance(task, request.lines)

            await asyncio.gather(*(worker() for _ in range(8)))


async def _put(http: httpx.AsyncClient, request: Request) -> httpx.Response:
    return await _post(http, request, method="PUT")


async def _post(
    http: httpx.AsyncClient, request: Request, *, method: str = "POST"
) -> httpx.Response:
    """POST as a well-behaved sender: on 429 or 503, wait as ``Retry-After`` says and retry."""
    for _ in range(SEND_ATTEMPTS):
        reply = await http.request(
            method, request.url, content=request.body, headers=request.headers
        )
        if reply.status_code not in {429, 503}:
            return reply
        await asyncio.sleep(float(reply.headers.get("retry-after", "1")))
    return reply
