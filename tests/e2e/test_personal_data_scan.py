"""No personal data leaves the collector in clear (issue 18, "Proof").

Planted people (unique names, e-mail addresses and phone numbers) go into the real stack by
every ingestion path: a signed Typeform webhook (the respondent's name and e-mail fields,
comments naming a trainer and a learner), a native-API complaint, a bulk NDJSON hazard and
a CSV file import. Once the analyzer, actions and reporter have read everything and the
reporter has built a dossier de preuves, everything the run wrote is scanned: every message
of every topic, every document of the four databases, every log line and every file of the
reporter's builds. None may hold a planted value, whatever its case or accents.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bson import json_util
from pymongo import AsyncMongoClient

from boucle_collector.adapters.webhook_formats import typeform
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1, HazardReportedV1
from tests.stack import running
from tools.demo_loop import backlog
from tools.localstack import Stack, StackConfig

pytestmark = pytest.mark.e2e

NETWORK, SITE = "reseau-scan", "site-scan"
API_KEY = "scan-api-key-0123456789"
TYPEFORM_SECRET = "scan-typeform-secret-0123456789"
WAIT_SECONDS = 60.0

# The planted people: a respondent, a trainer and a learner, with contacts.
RESPONDENT, RESPONDENT_EMAIL = "Bérangère Quintaval", "berangere.quintaval@planted-scan.fr"
TRAINER, LEARNER = "Théophile Zarzecki", "Ysaline Kervadec"
LEARNER_EMAIL = "ysaline.kervadec@planted-scan.fr"
PHONES = ("06 48 27 19 53", "+33 7 61 52 94 38")
# What must never be found, folded (no accents, case folded); phones by their digits.
NAMES = ("quintaval", "berangere", "zarzecki", "theophile", "kervadec", "ysaline")
CONTACTS = ("planted-scan",)
PHONE_DIGITS = ("648271953", "761529438")


def fold(text: str) -> str:
    """Accents off, case folded, JSON ``\\uXXXX`` escapes read (logs and json_util use them)."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def leaks(text: str) -> list[str]:
    """The planted values found in ``text``."""
    folded = fold(text)
    digits = re.sub(r"[\s.\-()+]", "", folded)
    found = [n for n in (*NAMES, *CONTACTS) if n in folded]
    return found + [p for p in PHONE_DIGITS if p in digits]


def integrations(folder: Path) -> Path:
    hidden = {"site": {"role": "site_id"}, "session": {"role": "session_id"}}
    document = {
        "integrations": [
            {
                "id": "scan-api",
                "platform": "api",
                "network_id": NETWORK,
                "sites": ["*"],
                "api_keys": [
                    {"id": "scan", "sha256": hashlib.sha256(API_KEY.encode()).hexdigest()}
                ],
                "forms": {
                    "papier": {
                        "site_id": SITE,
                        "survey_kind": "hot",
                        "respondent_role": "learner",
                        "programme_id": "prog-scan",
                        "questions": {
                            "note": {"answer_type": "scale", "dimension": "overall"},
                            "commentaire": {"role": "comment"},
                            "email": {"role": "respondent_email"},
                            "nom": {"role": "respondent_name"},
                        },
                    }
                },
            },
            {
                "id": "scan-typeform",
                "platform": "typeform",
                "network_id": NETWORK,
                "sites": ["*"],
                "secrets": [{"env": "SCAN_TYPEFORM_SECRET"}],
                "forms": {
                    "scanForm": {
                        "survey_kind": "hot",
                        "respondent_role": "learner",
                        "programme_id": "prog-scan",
                        "questions": {
                            "tf-overall": {"answer_type": "scale", "dimension": "overall"},
                            "tf-trainer": {"answer_type": "scale", "dimension": "trainer"},
                            "tf-comment": {"role": "comment"},
                            "tf-remark": {"role": "comment", "dimension": "trainer"},
                            "tf-name": {"role": "respondent_name"},
                            "tf-email": {"role": "respondent_email"},
                        }
                        | hidden,
                    }
                },
            },
        ]
    }
    path = folder / "integrations.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def typeform_body(at: datetime) -> bytes:
    def field(kind: str, field_id: str, **value: Any) -> dict[str, Any]:
        return {"type": kind, "field": {"id": field_id, "type": "short_text"}, **value}

    stamp = at.isoformat().replace("+00:00", "Z")
    answers = [
        field("number", "tf-overall", number=4),
        field("number", "tf-trainer", number=5),
        field("text", "tf-name", text=RESPONDENT),
        field("email", "tf-email", email=RESPONDENT_EMAIL),
        field(
            "text",
            "tf-comment",
            text=f"Je remercie {TRAINER} pour sa patience. Bérangère, joignable au {PHONES[0]}.",
        ),
        field("text", "tf-remark", text=f"{LEARNER} et moi avons trouvé le rythme trop rapide."),
    ]
    return json.dumps(
        {
            "event_id": "ev-scan-1",
            "event_type": "form_response",
            "form_response": {
                "form_id": "scanForm",
                "token": "scan-response-1",
                "submitted_at": stamp,
                "landed_at": stamp,
                "hidden": {"site": SITE, "session": "sess-scan"},
                "answers": answers,
            },
        },
        ensure_ascii=False,
    ).encode()


async def ingest(stack: Stack, at: datetime) -> None:
    """The planted people, through the four ingestion paths; each must be accepted."""
    key = {"x-api-key": API_KEY}
    complaint = example_of(ComplaintReceivedV1).data.model_copy(
        update={
            "complaint_id": "cmp-scan-1",
            "received_at": at,
            "subject": f"Attestation jamais reçue par Mme {RESPONDENT}",
            "description": f"M. Zarzecki reste injoignable. Écrire à {RESPONDENT_EMAIL} "
            f"ou appeler le {PHONES[0]}.",
        }
    )
    hazard = example_of(HazardReportedV1).data.model_copy(
        update={
            "incident_id": "ale-scan-1",
            "occurred_at": at,
            "reported_at": at,
            "summary": f"Absence imprévue de {TRAINER}",
            "description": f"Le formateur {TRAINER} a prévenu au {PHONES[1]}.",
        }
    )
    csv_body = (
        "response_id;submitted_at;note;commentaire;email;nom\n"
        f"imp-scan-1;{at.strftime('%d/%m/%Y %H:%M')};3;"
        f"Merci {TRAINER}, et bravo à {LEARNER};{LEARNER_EMAIL};{LEARNER}\n"
    ).encode()
    base = f"/networks/{NETWORK}/sites/{SITE}"
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=30) as http:
        body = typeform_body(at)
        replies = [
            await http.post(
                "/v1/webhooks/typeform/scan-typeform",
                content=body,
                headers={
                    "typeform-signature": typeform.sign(TYPEFORM_SECRET, body),
                    "content-type": "application/json",
                },
            ),
            await http.post(
                f"/v1{base}/complaints",
                content=complaint.model_dump_json(exclude_none=True),
                headers=key | {"content-type": "application/json"},
            ),
            await http.post(
                f"/v1/bulk{base}/hazards",
                content=hazard.model_dump_json(exclude_none=True) + "\n",
                headers=key | {"content-type": "application/x-ndjson"},
            ),
            await http.post(
                f"/v1/imports{base}/survey-responses?form=papier",
                content=csv_body,
                headers=key | {"content-type": "text/csv"},
            ),
        ]
    for reply in replies:
        assert reply.status_code in {200, 202}, f"{reply.request.url}: {reply.text}"
        summary = reply.json()
        assert summary.get("status", "accepted") == "accepted", summary
        assert summary.get("accepted", 1) == 1, summary


async def wait_until_read(stack: Stack) -> None:
    """The analyzer counted both responses, and every consumer group has read everything."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.config.mongodb_uri)
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        aggregates = client[stack.config.database("analyzer")]["aggregates"]
        while time.monotonic() < deadline:
            found = await aggregates.find_one(
                {"scope.level": "site", "scope.site_id": SITE, "granularity": "month"}
            )
            if found is not None and found["responses"] == 2:
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail(f"the analyzer did not count the responses\n{stack.diagnostics()}")
    finally:
        await client.close()
    for service in ("analyzer", "actions", "reporter"):
        caught_up = 0
        while caught_up < 2:  # twice in a row: figures of the last change may still come
            if time.monotonic() > deadline:
                pytest.fail(f"the {service} did not read everything\n{stack.diagnostics()}")
            caught_up = caught_up + 1 if await backlog(stack, service) == 0 else 0
            await asyncio.sleep(1)


async def build_dossier(stack: Stack, at: datetime) -> bytes:
    token = stack.config.issuer.token(network_id=NETWORK)
    async with httpx.AsyncClient(
        base_url=stack["reporter"].url, timeout=60, headers={"authorization": f"Bearer {token}"}
    ) as http:
        period = {
            "from": at.date().replace(day=1).isoformat(),
            "to": (at + timedelta(days=2)).date().isoformat(),
        }
        build = (
            (await http.post(f"/v1/networks/{NETWORK}/builds", json=period))
            .raise_for_status()
            .json()
        )
        url = f"/v1/networks/{NETWORK}/builds/{build['build_id']}"
        deadline = time.monotonic() + WAIT_SECONDS
        while build["status"] not in {"done", "failed"}:
            assert time.monotonic() < deadline, f"dossier still {build['status']}"
            await asyncio.sleep(0.5)
            build = (await http.get(url)).raise_for_status().json()
        assert build["status"] == "done", build
        return (await http.get(build["download"])).raise_for_status().content


async def topic_messages(stack: Stack) -> dict[str, list[str]]:
    """Every record (key, headers, value) of every topic of this run, from the beginning."""
    bootstrap = stack.config.kafka_bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        prefix = stack.config.topic_prefix
        topics = sorted(t for t in await admin.list_topics() if t.startswith(prefix))
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], p["partition"])
        for topic in described
        for p in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: dict[str, list[str]] = {topic: [] for topic in topics}
        left = {tp for tp in partitions if ends[tp] > 0}
        deadline = time.monotonic() + WAIT_SECONDS
        while left:
            assert time.monotonic() < deadline, f"could not read to the end of {left}"
            batch = await consumer.getmany(*left, timeout_ms=2000)
            for tp, records in batch.items():
                for record in records:
                    headers = " ".join(
                        f"{k}={v.decode(errors='replace')}" for k, v in record.headers
                    )
                    key = (record.key or b"").decode(errors="replace")
                    value = (record.value or b"").decode(errors="replace")
                    found[tp.topic].append(f"{key} {headers} {value}")
                    if record.offset + 1 >= ends[tp]:
                        left.discard(tp)
        return found
    finally:
        await consumer.stop()


async def database_documents(stack: Stack) -> dict[str, list[str]]:
    """Every document of every collection of the four services' databases, as JSON."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.config.mongodb_uri)
    found: dict[str, list[str]] = {}
    try:
        for service in ("collector", "analyzer", "actions", "reporter"):
            database = client[stack.config.database(service)]
            for name in await database.list_collection_names():
                documents = await database[name].find({}).to_list(None)
                found[f"{service}.{name}"] = [json_util.dumps(d) for d in documents]
    finally:
        await client.close()
    return found


def file_texts(name: str, content: bytes) -> Iterator[tuple[str, str]]:
    """The text of a file, and of every member of the archives it is (zip, xlsx, docx)."""
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.namelist():
                yield from file_texts(f"{name}/{member}", archive.read(member))
    elif not name.endswith(".pdf"):  # a PDF is rendered from the .html beside it
        yield name, content.decode("utf-8", errors="replace")


async def test_no_planted_personal_data_in_clear_anywhere(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, tmp_path: Path
) -> None:
    builds = tmp_path / "builds"
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        topic_prefix=f"{isolation}.",
        database_suffix=f"_{isolation}",
        topic_partitions=1,
        collector_env={
            "BOUCLE_COLLECTOR_INTEGRATIONS_FILE": str(integrations(tmp_path / "config")),
            "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET": "scan-pseudonymisation-secret-0123",
            "SCAN_TYPEFORM_SECRET": TYPEFORM_SECRET,
        },
        extra_env={
            "BOUCLE_ANALYZER_SNAPSHOT_INTERVAL_SECONDS": "0.5",
            "BOUCLE_REPORTER_BUILDS_DIR": str(builds),
            **{
                f"BOUCLE_{s.upper()}_GRACEFUL_TIMEOUT_SECONDS": "10"
                for s in ("collector", "analyzer", "actions", "reporter")
            },
        },
    )
    at = datetime.now(UTC) - timedelta(hours=2)
    with running(Stack(config=config, log_dir=tmp_path / "logs")) as stack:
        await ingest(stack, at)
        await wait_until_read(stack)
        dossier = await build_dossier(stack, at)
        topics = await topic_messages(stack)
        documents = await database_documents(stack)
    # after the stop: every log line, the last ones included, is in the files
    logs = {path.name: path.read_text(errors="replace") for path in (tmp_path / "logs").iterdir()}
    files = dict(file_texts("dossier.zip", dossier))
    for path in builds.rglob("*"):
        if path.is_file():
            files |= dict(file_texts(str(path.relative_to(builds)), path.read_bytes()))

    # the scanner itself sees a planted value however it is written
    assert leaks('{"n": "BÉRANGÈRE"}')
    assert leaks('"Th\\u00e9ophile"')
    assert leaks("tél. 06.48.27.19.53")
    found: dict[str, list[str]] = {}
    for where, texts in (
        *(("topic " + t, m) for t, m in topics.items()),
        *(("collection " + c, d) for c, d in documents.items()),
        *(("log " + name, text.splitlines()) for name, text in logs.items()),
        *(("file " + name, [text]) for name, text in files.items()),
    ):
        for text in texts:
            if leaked := leaks(text):
                found.setdefault(where, []).append(f"{leaked}: {text[:300]}")
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)

    # The scan saw the run: the facts are on the topics and in the databases, names masked.
    on_topics = "\n".join(m for messages in topics.values() for m in messages)
    for fact in ("cmp-scan-1", "ale-scan-1", "scan-response-1", "imp-scan-1"):
        assert fact in on_topics
    assert len(re.findall(r"\[nom p-[0-9a-f]{10}\]", on_topics)) >= 6
    assert "[téléphone masqué]" in fold(on_topics) or "[telephone masque]" in fold(on_topics)
    stored = "\n".join(d for docs in documents.values() for d in docs)
    assert "cmp-scan-1" in stored
    assert "ale-scan-1" in stored
    assert any(name.endswith(".html") for name in files)
    assert sum(len(text.splitlines()) for text in logs.values()) > 20
