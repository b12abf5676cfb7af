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
from boucle_contracts.problems.v1 import ProblemOpenedV1
from boucle_contracts.scope import Scope, ScopeLevel
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


async def _publish(stack: Stack, event: Any) -> None:
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


async def publish_problem(
    stack: Stack, sites: tuple[str, ...], complaint_ids: tuple[str, ...] = ()
) -> str:
    """A problem as the analyzer publishes it (the example's figures, moved to ``sites``);
    the actions service drafts an action from it. Returns the problem's id."""
    base = example_of(ProblemOpenedV1).data
    problem_id = f"pb-{uuid.uuid4().hex[:10]}"

    def at(site: str) -> Scope:
        return Scope(level=ScopeLevel.SITE, network_id=NET, site_id=site)

    degradations = tuple(
        d.model_copy(
            update={
                "degradation_id": f"deg-{problem_id}-{n}",
                "scope": at(sites[n % len(sites)]).model_copy(update={"dimension": d.dimension}),
            }
        )
        for n, d in enumerate(base.degradations)
    )
    data = base.model_copy(
        update={
            "problem_id": problem_id,
            "scopes": tuple(at(s) for s in sites),
            "degradations": degradations,
            "degradation_ids": tuple(d.degradation_id for d in degradations),
            "complaint_ids": complaint_ids,
        }
    )
    event = ProblemOpenedV1.create(
        data=data,
        network_id=NET,
        site_id=sites[0] if len(sites) == 1 else None,
        source="/analyzer",
        event_id=f"evt-{uuid.uuid4().hex}",
    )
    await _publish(stack, event)
    return problem_id


async def publish_complaint(
    stack: Stack, site: str, subject: str, network: str = NET, *, hours_ago: float = 2
) -> None:
    base = example_of(ComplaintReceivedV1)
    received = datetime.now(UTC) - timedelta(hours=hours_ago)
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
    await _publish(stack, event)


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


def draft_of(stack: Stack, problem_id: str, timeout: float = 40) -> dict[str, Any]:
    """The action the actions service drafted from the problem ``problem_id``."""
    deadline = time.monotonic() + timeout
    with api(stack) as http:
        while time.monotonic() < deadline:
            listed = http.get("/actions", params={"source": "degradation", "limit": 200})
            for action in listed.json()["items"]:
                if (action.get("evidence") or {}).get("problem_id") == problem_id:
                    return dict(action)
            time.sleep(0.3)
    raise AssertionError(f"no draft for problem {problem_id!r} within {timeout} s")
