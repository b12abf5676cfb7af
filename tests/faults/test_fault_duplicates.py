"""Duplicated and reordered deliveries: nothing counted twice, no state going backwards."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from boucle_contracts.examples import example_of
from boucle_contracts.metrics.v1 import ScopeMetricsUpdatedV1
from tests.faults.support import (
    NETWORK,
    eventually,
    post_response,
    produce_events,
    published,
    reported,
    response_event,
    settled_aggregate,
)
from tools.localstack import Stack

pytestmark = pytest.mark.e2e
OTHER_SITE = "site-reordered"


def snapshot(granularity: str, start: str, end: str, revision: int) -> ScopeMetricsUpdatedV1:
    """The analyzer's figures for OTHER_SITE at ``revision``: ``revision`` responses."""
    raw: dict[str, Any] = example_of(ScopeMetricsUpdatedV1).model_dump(mode="json")
    raw |= {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fault/{granularity}/{revision}")),
        "site_id": OTHER_SITE,
        "subject": f"metrics/site/{granularity}/{start[:10]}",
    }
    raw["data"] |= {
        "scope": {"level": "site", "network_id": NETWORK, "site_id": OTHER_SITE},
        "granularity": granularity,
        "period": {"start": start, "end": end},
        "responses": revision,
        "revision": revision,
        "dimensions": [
            {"dimension": "overall", "count": revision, "total": 4.0 * revision}
            | {"total_squares": 16.0 * revision, "satisfied": revision}
        ],
    }
    return ScopeMetricsUpdatedV1.model_validate(raw)


async def test_duplicates_count_once_and_older_revisions_never_win(fault_stack: Stack) -> None:
    stack = fault_stack
    async with httpx.AsyncClient(base_url=stack["collector"].url, timeout=15) as http:
        first, again = [await post_response(http, 1) for _ in range(2)]  # a sender's retry
    assert (first.status_code, again.status_code) == (202, 200)  # 200: already accepted
    assert first.json()["event_id"] == again.json()["event_id"]
    twice = response_event(2)
    await produce_events(stack, [twice, twice])  # the broker delivers one event twice

    month = ("2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z")
    newer, older = snapshot("month", *month, 5), snapshot("month", *month, 3)
    marker = snapshot("week", "2025-03-10T00:00:00Z", "2025-03-17T00:00:00Z", 1)
    await produce_events(stack, [newer, older, marker])  # same key: same partition, this order

    assert await published(stack) >= 3  # the collector's retry may or may not be re-published
    assert await settled_aggregate(stack, 2) == (2, 2)
    assert await reported(stack, expected=2) == 2

    token = stack.config.issuer.token(network_id=NETWORK)
    async with httpx.AsyncClient(
        base_url=stack["actions"].url, timeout=10, headers={"authorization": f"Bearer {token}"}
    ) as http:

        async def site_kpis() -> dict[str, int] | None:
            found = (await http.get(f"/v1/networks/{NETWORK}/kpis")).json()
            mine = {
                k["granularity"]: k["responses"]
                for k in found
                if k["scope"].get("site_id") == OTHER_SITE
            }
            return mine if "week" in mine else None  # the marker came after both months

        kpis = await eventually("actions saw the marker snapshot", site_kpis, stack)
    assert kpis == {"month": 5, "week": 1}
