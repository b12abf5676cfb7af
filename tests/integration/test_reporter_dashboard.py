"""The quality lead's dashboard, served by the reporter, rendered in a real headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from bench.reporter.scenario import GAPS, NETWORK, gap_events
from fastapi import FastAPI
from playwright.async_api import async_playwright
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from boucle_reporter.access import open_access
from boucle_reporter.adapters.mongo import MongoBuildStore, MongoEvidenceLog, MongoReadModel
from boucle_reporter.api import reports_router
from boucle_reporter.builds import BuildService
from boucle_reporter.handlers import EvidenceRecorder
from boucle_reporter.metrics import ReporterMetrics
from tools.localstack import free_port

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def reporter_url(mongodb_uri: str, isolation: str, tmp_path: Path) -> AsyncIterator[str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    database = f"reporter_{isolation}"
    evidence, read_model = MongoEvidenceLog(client, database), MongoReadModel(client, database)
    await evidence.create_indexes()
    metrics = ReporterMetrics(CollectorRegistry())
    recorder = EvidenceRecorder(evidence=evidence, read_model=read_model, metrics=metrics)
    for event in gap_events():
        await recorder.on_event(event)
    builds = BuildService(
        read_model=read_model,
        evidence=evidence,
        store=MongoBuildStore(client, database),
        directory=tmp_path,
        metrics=metrics,
    )
    app = FastAPI()
    app.include_router(
        reports_router(
            read_model=read_model,
            evidence=evidence,
            builds=builds,
            metrics=metrics,
            access=open_access,
        )
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        await client.drop_database(database)
        await client.close()


async def test_the_dashboard_renders_the_expected_figures_in_chromium(reporter_url: str) -> None:
    url = f"{reporter_url}/v1/networks/{NETWORK}/dashboard?from=2025-01-01&to=2026-01-01"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            reply = await page.goto(url)
            assert reply is not None
            assert reply.status == 200

            title = await page.title()
            sites = await page.locator("#risk tr.site").evaluate_all(
                "rows => rows.map(r => [r.dataset.site, r.querySelector('.score').textContent])"
            )
            degradations = await page.locator("#degradations tr.degradation").evaluate_all(
                "rows => rows.map(r => r.dataset.id)"
            )
            board = await page.locator("#board section").evaluate_all(
                "s => s.map(c => [c.dataset.column, c.querySelectorAll('.card').length])"
            )
            late = await page.locator("#board .card.late").evaluate_all(
                "cards => cards.map(c => c.dataset.action)"
            )
            gaps = await page.locator("#readiness tr.finding").evaluate_all(
                "rows => rows.map(r => r.dataset.code)"
            )
            summary = await page.locator("#summary td.value").evaluate_all(
                "cells => Object.fromEntries(cells.map(c => [c.dataset.key, c.textContent]))"
            )
            visible = await page.locator("#risk").is_visible()
        finally:
            await browser.close()

    assert title.startswith("Tableau de bord qualité")
    assert visible
    # paris: open high degradation (3 x 3), overdue complaint (2), late action act-3 (1)
    assert sites == [["paris", "12"], ["lyon", "9"]]
    assert sorted(degradations) == ["deg-1", "deg-2"]
    assert board == [["proposed", 0], ["validated", 2], ["in_progress", 0], ["done", 3]]
    assert late == ["act-3"]
    assert sorted(gaps) == sorted(code for _, code, _, _ in GAPS)
    assert summary == {
        "open_degradations": "2",
        "open_actions": "2",
        "late_actions": "1",
        "findings": str(len(GAPS)),
    }
