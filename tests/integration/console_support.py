"""The stack with its console, complaints put on the broker, sessions as sign-in leaves them."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from boucle_console.session import COOKIE, SessionCodec
from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from tests.stack import running
from tools.localstack import Stack, StackConfig

NET = "net-console"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_stack(
    kafka_bootstrap: str, mongodb_uri: str, log_dir: Path, **config: Any
) -> Iterator[Stack]:
    token = f"c{uuid.uuid4().hex[:10]}"
    stack_config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongodb_uri=mongodb_uri,
        topic_prefix=f"{token}.",
        database_suffix=f"_{token}",
        topic_partitions=1,
        console=True,
        services=("actions", "reporter"),  # what the console calls; complaints go on the broker
        **config,
    )
    with running(Stack(stack_config, log_dir)) as stack:
        yield stack


async def publish_complaint(stack: Stack, site: str, subject: str, network: str = NET) -> None:
    base = example_of(ComplaintReceivedV1)
    received = datetime.now(UTC) - timedelta(hours=2)
    event = ComplaintReceivedV1.create(
        data=base.data.model_copy(
            update={
                "complaint_id": f"rec-{uuid.uuid4().hex[:10]}",
                "received_at": received,
                "subject": subject,
            }
        ),
        network_id=network,
        site_id=site,
        source="/collector/api",
        event_id=f"evt-{uuid.uuid4().hex}",
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{stack.config.topic_prefix}{event.TOPIC}",
            event.to_json_bytes(),
            key=event.partition_key,
            headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
        )
    finally:
        await producer.stop()


def token(stack: Stack, role: str, sites: tuple[str, ...] = (), **claims: Any) -> str:
    if role == "auditor":
        now = datetime.now(UTC)
        claims.setdefault("period_start", (now - timedelta(days=30)).date().isoformat())
        claims.setdefault("period_end", now.date().isoformat())
    if sites:
        claims["site_ids"] = list(sites)
    return stack.config.issuer.token(
        network_id=NET, role=role, subject=f"usr-{role}-{'-'.join(sites) or 'all'}", **claims
    )


def session(stack: Stack, access_token: str) -> str:
    """The cookie the console sets once sign-in has completed, for this access token."""
    codec = SessionCodec(stack.config.console_session_secret, max_age_seconds=3600)
    return codec.encode({"tokens": {"access_token": access_token}})


def browser(stack: Stack, role: str, sites: tuple[str, ...] = ()) -> httpx.Client:
    """A client holding the console's session cookie, following no redirect by itself."""
    cookie = session(stack, token(stack, role, sites))
    return httpx.Client(base_url=stack["console"].url, cookies={COOKIE: cookie}, timeout=15)


def api(stack: Stack, role: str = "quality_lead", sites: tuple[str, ...] = ()) -> httpx.Client:
    """The actions API directly, to check what the console did and to prepare plans."""
    return httpx.Client(
        base_url=f"{stack['actions'].url}/v1/networks/{NET}",
        headers={"authorization": f"Bearer {token(stack, role, sites)}"},
        timeout=15,
    )


def case_of(
    stack: Stack, subject: str, timeout: float = 40, *, http: httpx.Client | None = None
) -> dict[str, Any]:
    """The case the actions service opened for the complaint ``subject``."""
    deadline = time.monotonic() + timeout
    with http or api(stack) as http:
        while time.monotonic() < deadline:
            for case in http.get("/cases", params={"limit": 200}).json()["items"]:
                if case["summary"] == subject:
                    return dict(case)
            time.sleep(0.3)
    raise AssertionError(f"no case for {subject!r} within {timeout} s")


def csrf(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)
