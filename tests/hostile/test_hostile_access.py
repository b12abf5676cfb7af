"""Hostile callers against the running stack, part two: refused, and no trace in the data.

One stack (the four services as processes, real broker and database) with an integrations
file. Each hostile call is checked on its answer (a 4xx that says why) and on what it left
behind: nothing new on the topics, no change in MongoDB.

* A Formbricks delivery replayed outside the Standard Webhooks window (five minutes).
* Malformed uploads to the CSV/XLSX import: multipart forms (broken boundary, no file
  part), a wrong content type, garbage sent as a workbook, an empty file.
* An auditor attempting every write of the actions API.
* Reads across sites (a site manager of site A) and across networks, on actions, reporter
  and analyzer; the analyzer's queries without a token, or with one of another issuer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient
from standardwebhooks.webhooks import Webhook

from boucle_contracts.actions.v1 import TOPIC as ACTIONS_TOPIC
from boucle_contracts.cases.v1 import TOPIC as CASES_TOPIC
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK_TOPIC
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from tests.faults.support import eventually
from tests.stack import running
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    KEYS,
    PSEUDONYM_SECRET,
    SECRETS,
    WEBHOOK_INTEGRATIONS,
    write_integrations,
)
from tests.unit.collector.test_collector_webhooks_formbricks import payload as formbricks_payload
from tools.deadletters import topic_partitions
from tools.localstack import LocalIssuer, Stack, StackConfig

pytestmark = pytest.mark.e2e

NET, OTHER_NET = "net-1", "net-2"
SITE_A, SITE_B = "site-a", "site-b"
FORMBRICKS_URL = "/v1/webhooks/formbricks/fb-lyon"
IMPORT_URL = f"/v1/imports/networks/{NET}/sites/{SITE_A}/survey-responses"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "N° questionnaire;Date;Note globale\nP-001;18/03/2025 17:30;4\n"
MARKER_B = "Chauffage en panne sur le site B"  # only in site B's data: must never leak


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack with an integrations file: API keys, the Formbricks secret."""
    token = f"t{time.time_ns() % 10**12:012d}"
    folder = tmp_path_factory.mktemp("hostile-access")
    integrations = write_integrations(
        folder / "integrations.json", API_INTEGRATIONS + WEBHOOK_INTEGRATIONS
    )
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        topic_prefix=f"{token}.",
        database_suffix=f"_{token}",
        # the file names its secrets by variable: the collector gets them
        collector_env=SECRETS
        | {
            "BOUCLE_COLLECTOR_INTEGRATIONS_FILE": str(integrations),
            "BOUCLE_COLLECTOR_PSEUDONYMISATION_SECRET": PSEUDONYM_SECRET,
        },
    )
    with running(Stack(config=config, log_dir=folder / "logs")) as started:
        yield started


# --- what a call may leave behind -------------------------------------------------------------


async def end_offsets(stack: Stack, *topics: str) -> dict[str, int]:
    """Total messages per topic (sum of partition end offsets)."""
    bootstrap = stack.config.kafka_bootstrap
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        totals: dict[str, int] = {}
        for topic in topics:
            partitions = await topic_partitions(bootstrap, f"{stack.config.topic_prefix}{topic}")
            ends = await consumer.end_offsets(partitions)
            totals[topic] = sum(ends.values())
        return totals
    finally:
        await consumer.stop()


async def documents(stack: Stack, service: str, *collections: str) -> dict[str, list[str]]:
    """Every document of the collections, sorted: a change anywhere shows."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.config.mongodb_uri)
    try:
        database = client[stack.config.database(service)]
        found: dict[str, list[str]] = {}
        for name in collections:
            cursor = database[name].find()
            found[name] = sorted([json.dumps(d, default=str, sort_keys=True) async for d in cursor])
        return found
    finally:
        await client.close()


def says_why(reply: httpx.Response) -> str:
    detail = reply.json().get("detail")
    assert detail, f"{reply.status_code} without a reason: {reply.text}"
    return json.dumps(detail)


# --- Formbricks replay ------------------------------------------------------------------------


def formbricks_delivery(response_id: str, moment: datetime) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(formbricks_payload(response_id=response_id))
    message_id = f"msg_{response_id}"
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(SECRETS["FB_SECRET"]).sign(message_id, moment, body),
    }
    return body.encode(), headers


async def test_a_formbricks_delivery_outside_its_time_window_is_refused_without_trace(
    stack: Stack,
) -> None:
    before = await end_offsets(stack, FEEDBACK_TOPIC)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        # Correctly signed, but captured ten minutes ago (or dated ahead): a replay.
        for moment in (now - timedelta(minutes=10), now + timedelta(minutes=10)):
            body, headers = formbricks_delivery("clreplayed", moment)
            replayed = await http.post(FORMBRICKS_URL, content=body, headers=headers)
            assert replayed.status_code == 401, replayed.text
            assert "timestamp" in says_why(replayed).lower()
        assert await end_offsets(stack, FEEDBACK_TOPIC) == before

        body, headers = formbricks_delivery("clintime", now)  # the control: in the window
        fresh = await http.post(FORMBRICKS_URL, content=body, headers=headers)
        assert fresh.status_code == 200, fresh.text
    assert await end_offsets(stack, FEEDBACK_TOPIC) == {FEEDBACK_TOPIC: before[FEEDBACK_TOPIC] + 1}


async def test_an_unknown_webhook_integration_is_answered_like_a_forged_signature(
    stack: Stack,
) -> None:
    """Over real HTTP: a prober cannot tell an unknown integration id from a known one."""
    before = await end_offsets(stack, FEEDBACK_TOPIC)
    body, headers = formbricks_delivery("clprobe", datetime.now(UTC))
    forged = headers | {"webhook-signature": "v1,Zm9yZ2VkIHNpZ25hdHVyZQ=="}
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        known = await http.post(FORMBRICKS_URL, content=body, headers=forged)
        unknown = await http.post("/v1/webhooks/formbricks/fb-nope", content=body, headers=forged)
        probes = [
            (await http.head(url)).status_code
            for url in (FORMBRICKS_URL, "/v1/webhooks/formbricks/fb-nope")
        ]

    def answer(reply: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
        # ``date`` is the second of the answer, not information about the integration
        headers = sorted((k, v) for k, v in reply.headers.items() if k != "date")
        return reply.status_code, reply.content, headers

    assert known.status_code == 401, known.text
    assert answer(unknown) == answer(known)
    assert probes == [200, 200]
    assert await end_offsets(stack, FEEDBACK_TOPIC) == before


# --- malformed uploads ------------------------------------------------------------------------


def multipart(boundary: str, parts: list[tuple[str, str | None, str]]) -> bytes:
    """A multipart/form-data body: (field name, file name or None, content) per part."""
    lines: list[str] = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        lines += [f"--{boundary}", f"Content-Disposition: {disposition}", "", content]
    lines.append(f"--{boundary}--")
    return "\r\n".join(lines).encode()


MALFORMED: dict[str, tuple[bytes, str, int, str]] = {
    # name: (body, content type, status, words of the reason)
    "broken multipart boundary": (
        multipart("real-boundary", [("file", "export.csv", CSV)]),
        "multipart/form-data; boundary=announced-boundary",
        415,
        "not a csv or xlsx export",
    ),
    "multipart without a file part": (
        multipart("b0undary", [("form", None, "paper-hot")]),
        "multipart/form-data; boundary=b0undary",
        415,
        "send the file itself as the body",
    ),
    "a well-formed multipart upload": (
        multipart("b0undary", [("file", "export.csv", CSV)]),
        "multipart/form-data; boundary=b0undary",
        415,
        "send the file itself as the body",
    ),
    "wrong content type": (CSV.encode(), "application/pdf", 415, "application/pdf"),
    "binary garbage as xlsx": (
        b"PK\x03\x04" + bytes(range(256)) * 8,
        XLSX,
        422,
        "not a readable xlsx workbook",
    ),
    "garbage without the zip signature as xlsx": (
        bytes(range(255, -1, -1)) * 4,
        XLSX,
        422,
        "not a readable xlsx workbook",
    ),
    "an empty file": (b"", "text/csv", 422, "empty"),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_upload_is_refused_with_a_reason_and_publishes_nothing(
    stack: Stack, case: str
) -> None:
    body, content_type, status, reason = MALFORMED[case]
    before = await end_offsets(stack, FEEDBACK_TOPIC)
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        reply = await http.post(
            IMPORT_URL,
            params={"form": "paper-hot"},
            content=body,
            headers={"x-api-key": KEYS["lyon-1"], "content-type": content_type},
        )
    assert reply.status_code == status, reply.text
    assert reason in says_why(reply).lower()
    assert await end_offsets(stack, FEEDBACK_TOPIC) == before


# --- cases, actions and meetings of two sites -------------------------------------------------


@dataclass(frozen=True)
class SiteItems:
    case_id: str
    action_id: str
    meeting_id: str


@dataclass(frozen=True)
class Network:
    items: dict[str, SiteItems]  # per site


def complaint(site: str) -> dict[str, Any]:
    data = example_of(ComplaintReceivedV1).data
    summary = MARKER_B if site == SITE_B else "Salle trop froide"
    changed = data.model_copy(
        update={
            "complaint_id": f"rec-hostile-{site}",
            "received_at": datetime.now(UTC) - timedelta(hours=1),
            "summary": summary,
        }
    )
    document: dict[str, Any] = changed.model_dump(mode="json", exclude_none=True)
    return document


def bearer(stack: Stack, role: str, network: str = NET, **claims: Any) -> dict[str, str]:
    token = stack.config.issuer.token(
        network_id=network, role=role, subject=f"usr-{role}", **claims
    )
    return {"authorization": f"Bearer {token}"}


def auditor(stack: Stack) -> dict[str, str]:
    return bearer(
        stack,
        "auditor",
        site_ids=[SITE_A, SITE_B],
        period_start="2020-01-01",
        period_end="2035-12-31",
    )


@pytest.fixture(scope="module")
async def network(stack: Stack) -> Network:
    """A complaint case, an action and a meeting at each of two sites."""
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        for site in (SITE_A, SITE_B):
            sent = await http.post(
                f"/v1/networks/{NET}/sites/{site}/complaints",
                json=complaint(site),
                headers={"x-api-key": KEYS["network"]},
            )
            assert sent.status_code == 202, sent.text
    lead = httpx.AsyncClient(
        base_url=stack["actions"].url, headers=bearer(stack, "quality_lead"), timeout=15
    )
    async with lead:

        async def cases() -> dict[str, str] | None:
            found = (await lead.get(f"/v1/networks/{NET}/cases")).json()["items"]
            by_site = {case["site_id"]: case["case_id"] for case in found}
            return by_site if len(by_site) == 2 else None

        case_ids = await eventually("the actions service opened both cases", cases, stack)
        items: dict[str, SiteItems] = {}
        for site in (SITE_A, SITE_B):
            action = await lead.post(
                f"/v1/networks/{NET}/actions",
                json={"title": f"Chauffage {site}", "problem": MARKER_B, "site_id": site},
            )
            assert action.status_code == 201, action.text
            meeting = await lead.post(
                f"/v1/networks/{NET}/meetings",
                json={
                    "held_at": datetime.now(UTC).isoformat(),
                    "title": f"Revue {site}",
                    "site_id": site,
                    "attendees": ["quality_lead"],
                },
            )
            assert meeting.status_code == 201, meeting.text
            items[site] = SiteItems(
                case_ids[site], action.json()["action_id"], meeting.json()["meeting_id"]
            )
    return Network(items)


ACTIONS_COLLECTIONS = ("cases", "actions", "meetings", "network_settings")


def auditor_writes(items: SiteItems) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every write of the actions API, with a body that would otherwise be valid."""
    base = f"/v1/networks/{NET}"
    action = f"{base}/actions/{items.action_id}"
    return [
        ("POST", f"{base}/actions", {"title": "t", "problem": "p", "site_id": SITE_A}),
        ("PATCH", action, {"expected_revision": 1, "title": "renamed"}),
        ("POST", f"{action}/transitions", {"to": "validated", "expected_revision": 1}),
        ("POST", f"{action}/comments", {"expected_revision": 1, "text": "vu"}),
        ("POST", f"{action}/evaluation", None),
        (
            "POST",
            f"{base}/cases/{items.case_id}/transitions",
            {"to": "acknowledged", "expected_revision": 1},
        ),
        (
            "POST",
            f"{base}/meetings",
            {
                "held_at": datetime.now(UTC).isoformat(),
                "title": "t",
                "site_id": SITE_A,
                "attendees": ["auditor"],
            },
        ),
        (
            "PUT",
            f"{base}/settings/deadlines",
            {"acknowledge_within_hours": 1, "answer_within_days": 1},
        ),
    ]


async def test_an_auditor_attempting_every_write_is_refused_and_changes_nothing(
    stack: Stack, network: Network
) -> None:
    topics = (CASES_TOPIC, ACTIONS_TOPIC)
    offsets, stored = (
        await end_offsets(stack, *topics),
        await documents(stack, "actions", *ACTIONS_COLLECTIONS),
    )
    async with httpx.AsyncClient(
        base_url=stack["actions"].url, headers=auditor(stack), timeout=15
    ) as http:
        for method, url, body in auditor_writes(network.items[SITE_A]):
            reply = await http.request(method, url, json=body)
            assert reply.status_code == 403, f"{method} {url}: {reply.status_code} {reply.text}"
            says_why(reply)
        # The same auditor may read: the refusals are about writing, not about the token.
        readable = await http.get(f"/v1/networks/{NET}/cases/{network.items[SITE_A].case_id}")
        assert readable.status_code == 200, readable.text
    assert await end_offsets(stack, *topics) == offsets
    assert await documents(stack, "actions", *ACTIONS_COLLECTIONS) == stored


# --- reads across sites and networks ----------------------------------------------------------


def foreign_reads(items: SiteItems) -> list[str]:
    """Reads of site B's items, by id and by filter."""
    base = f"/v1/networks/{NET}"
    return [
        f"{base}/cases/{items.case_id}",
        f"{base}/actions/{items.action_id}",
        f"{base}/meetings/{items.meeting_id}",
        f"{base}/cases?site_id={SITE_B}",
        f"{base}/actions?site_id={SITE_B}",
        f"{base}/meetings?site_id={SITE_B}",
    ]


REPORTER_READS = (
    f"/v1/networks/{NET}/tracking-table.csv?site_id={SITE_B}",
    f"/v1/networks/{NET}/tracking-table.xlsx?sites={SITE_B}",
    f"/v1/networks/{NET}/readiness?site_id={SITE_B}",
    f"/v1/networks/{NET}/dashboard?sites={SITE_A}&sites={SITE_B}",
)


async def test_a_site_manager_cannot_read_another_sites_items(
    stack: Stack, network: Network
) -> None:
    manager = bearer(stack, "site_manager", site_ids=[SITE_A])
    b_items = network.items[SITE_B]
    async with httpx.AsyncClient(
        base_url=stack["actions"].url, headers=manager, timeout=15
    ) as http:
        for url in foreign_reads(b_items):
            reply = await http.get(url)
            assert reply.status_code in (403, 404), f"{url}: {reply.status_code} {reply.text}"
            assert MARKER_B not in reply.text
            assert b_items.case_id not in says_why(reply)
        for listing in ("cases", "actions", "meetings"):
            own = await http.get(f"/v1/networks/{NET}/{listing}")
            assert own.status_code == 200, own.text
            sites = {item["site_id"] for item in own.json()["items"]}
            assert sites == {SITE_A}, f"{listing}: {sites}"
    async with httpx.AsyncClient(
        base_url=stack["reporter"].url, headers=manager, timeout=30
    ) as http:
        for url in REPORTER_READS:
            reply = await http.get(url)
            assert reply.status_code == 403, f"{url}: {reply.status_code} {reply.text}"
            says_why(reply)
        build = await http.post(
            f"/v1/networks/{NET}/builds",
            json={"from": "2025-01-01", "to": "2026-01-01", "sites": [SITE_B]},
        )
        assert build.status_code == 403, build.text
        listed = await http.get(f"/v1/networks/{NET}/builds")
        assert listed.status_code == 200, listed.text
        assert listed.json() == [], listed.text


ANALYZER = f"/v1/networks/{NET}"
ANALYZER_ROUTES = (
    f"{ANALYZER}/figures",
    f"{ANALYZER}/degradations?status=all",
    f"{ANALYZER}/emerging-terms",
)
# What a site manager of site A may not read there: site B, and the network-wide figures
# (the network's, and each trainer's, which span sites).
ANALYZER_FOREIGN_READS = (
    f"{ANALYZER}/figures?site_id={SITE_B}",
    f"{ANALYZER}/figures?level=network",
    f"{ANALYZER}/figures?level=trainer",
    f"{ANALYZER}/figures?trainer_id=formateur-0042",
    f"{ANALYZER}/emerging-terms?site_id={SITE_B}",
    f"{ANALYZER}/emerging-terms",
)


async def test_the_analyzer_answers_no_query_without_a_valid_token(
    stack: Stack, network: Network
) -> None:
    stranger = LocalIssuer()  # same issuer name and audience, another key
    forged = f"Bearer {stranger.token(network_id=NET)}"
    async with httpx.AsyncClient(base_url=stack["analyzer"].url, timeout=15) as http:
        for url in ANALYZER_ROUTES:
            anonymous = await http.get(url)
            assert anonymous.status_code == 401, f"{url}: {anonymous.status_code}"
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            says_why(anonymous)
            signed_elsewhere = await http.get(url, headers={"authorization": forged})
            assert signed_elsewhere.status_code == 401, f"{url}: {signed_elsewhere.status_code}"
            says_why(signed_elsewhere)
            machine = await http.get(url, headers=bearer(stack, "integration"))
            assert machine.status_code == 403, f"{url}: {machine.status_code}"


async def test_a_site_manager_reads_only_their_sites_on_the_analyzer(
    stack: Stack, network: Network
) -> None:
    manager = bearer(stack, "site_manager", site_ids=[SITE_A])
    async with httpx.AsyncClient(base_url=stack["analyzer"].url, timeout=15) as http:

        async def both_sites() -> bool:
            reply = await http.get(
                f"{ANALYZER}/figures",
                params={"level": "site"},
                headers=bearer(stack, "quality_lead"),
            )
            return {f["scope"]["site_id"] for f in reply.json()} == {SITE_A, SITE_B}

        await eventually("the analyzer counted both sites' complaints", both_sites, stack)
        for url in ANALYZER_FOREIGN_READS:
            reply = await http.get(url, headers=manager)
            assert reply.status_code == 403, f"{url}: {reply.status_code} {reply.text}"
            says_why(reply)
        own = await http.get(f"{ANALYZER}/figures", headers=manager)
        assert own.status_code == 200, own.text
        assert {f["scope"].get("site_id") for f in own.json()} == {SITE_A}
        listed = await http.get(f"{ANALYZER}/degradations?status=all", headers=manager)
        assert listed.status_code == 200, listed.text
        assert {d["scope"].get("site_id") for d in listed.json()} <= {SITE_A}


async def test_another_networks_token_reads_nothing(stack: Stack, network: Network) -> None:
    outsiders = {
        "quality lead of another network": bearer(stack, "quality_lead", OTHER_NET),
        "site manager of another network": bearer(
            stack, "site_manager", OTHER_NET, site_ids=[SITE_A, SITE_B]
        ),
    }
    network_wide = [f"/v1/networks/{NET}/cases", f"/v1/networks/{NET}/kpis"]
    reads = [
        *[("actions", url) for items in network.items.values() for url in foreign_reads(items)],
        *[("actions", url) for url in network_wide],
        *[("reporter", url) for url in REPORTER_READS],
        ("reporter", f"/v1/networks/{NET}/evidence/verification"),
        ("reporter", f"/v1/networks/{NET}/builds"),
        *[("analyzer", url) for url in (*ANALYZER_ROUTES, *ANALYZER_FOREIGN_READS)],
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for who, headers in outsiders.items():
            for service, url in reads:
                reply = await http.get(f"{stack[service].url}{url}", headers=headers)
                assert reply.status_code in (403, 404), f"{who} {url}: {reply.status_code}"
                assert MARKER_B not in reply.text
                assert NET in says_why(reply) or reply.status_code == 404, reply.text
