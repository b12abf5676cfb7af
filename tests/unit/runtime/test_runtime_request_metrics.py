"""HTTP request metrics: labelled by route template and status, errors counted as 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from boucle_runtime.operational import RequestMetrics

pytestmark = pytest.mark.unit


def _app(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestMetrics, registry=registry)

    @app.get("/v1/networks/{network_id}/things")
    async def things(network_id: str) -> dict[str, str]:
        if network_id == "missing":
            raise HTTPException(404, "no such network")
        if network_id == "boom":
            raise RuntimeError("bug")
        return {"network": network_id}

    return app


def _count(registry: CollectorRegistry, route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return registry.get_sample_value("boucle_http_requests_total", labels) or 0.0


def test_requests_are_counted_by_route_template_never_by_raw_path() -> None:
    registry = CollectorRegistry()
    client = TestClient(_app(registry), raise_server_exceptions=False)

    for network in ("net-a", "net-b", "missing", "boom"):
        client.get(f"/v1/networks/{network}/things")
    client.get("/nowhere")

    template = "/v1/networks/{network_id}/things"
    assert _count(registry, template, "200") == 2
    assert _count(registry, template, "404") == 1
    assert _count(registry, template, "500") == 1, "an unhandled error counts as a 500"
    assert _count(registry, "unmatched", "404") == 1
    exposed = [m.name for m in registry.collect()]
    assert "boucle_http_request_duration_seconds" in exposed
    samples = [s.labels for m in registry.collect() for s in m.samples]
    assert not any("net-a" in str(labels) for labels in samples), "no tenant ids in labels"
