"""The main job (``make demo``), reduced: a small sample network through the real paths.

Signed Typeform and Tally webhooks, bulk NDJSON and keyed native API calls into the
collector, the four services as processes on the real broker and database; degradations
become actions that are carried out and evaluated; then the audit pack: its figures must be
those of the generated data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from boucle_contracts.incidents.v1 import ComplaintReceived
from tools.demo import analysed_totals, run_loop, stack_config
from tools.demo_ingest import Credentials
from tools.localstack import Stack, StackError
from tools.sample_network import sample_network

pytestmark = pytest.mark.e2e


async def test_reduced_main_job_leaves_a_pack_matching_the_sample(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, tmp_path: Path
) -> None:
    network = sample_network(sites=4, months=3, seed=8)
    submissions = list(network.submissions())
    sent = Counter(s.path for s in submissions)
    complaints = sorted(
        s.payload.complaint_id for s in submissions if isinstance(s.payload, ComplaintReceived)
    )
    credentials = Credentials.new()
    config = stack_config(
        network, credentials, tmp_path / "run", topic_partitions=2,
        kafka_bootstrap=kafka_bootstrap, mongodb_uri=mongodb_uri,
        topic_prefix=f"{isolation}.", database_suffix=f"_{isolation}",
    )  # fmt: skip
    assert "BOUCLE_COLLECTOR_ALLOW_UNAUTHENTICATED" not in config.environment("collector", 1)
    stack = Stack(config=config, log_dir=tmp_path / "logs")
    try:
        stack.start()
        outcome = await run_loop(stack, network, credentials)
        totals = await analysed_totals(stack, network)
    except StackError as error:
        pytest.fail(str(error))
    finally:
        stack.stop()

    # every fact accepted, through every channel
    assert outcome.sender.accepted == sent
    assert set(outcome.sender.channels) == {"typeform", "tally", "bulk", "api"}
    # the analyzer counted exactly the facts generated, once each
    assert totals["responses"] == sent["survey-responses"]
    for kind in ("enrolments", "complaints", "hazards", "dropouts"):
        assert totals[kind] == sent[kind], kind
    # the loop closed: every degradation drafted an action, each carried out and evaluated;
    # effective at the sites fixed, not effective (re-opened) where the platform stayed down
    assert outcome.degradations
    assert sum(outcome.actions.values()) == len(outcome.degradations)
    outcomes = Counter(line.rsplit(" → ", 1)[1] for line in outcome.actions.elements())
    assert outcomes["effective"] > 0
    assert outcomes["reopened"] > 0
    (unfixed,) = network.unfixed_sites
    reopened = [line for line in outcome.actions if line.endswith("→ reopened")]
    assert any(f": {unfixed}" in line for line in reopened), reopened
    for fixed in set(network.platform_sites) - {unfixed}:
        platform = [line for line in outcome.actions if f"(platform) : {fixed}" in line]
        assert platform, f"no platform action at {fixed}"
        assert all(line.endswith("→ effective") for line in platform), platform
    archive = zipfile.ZipFile(io.BytesIO(outcome.dossier))
    for line in archive.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256(archive.read(name.lstrip("*"))).hexdigest() == digest, name
    register = load_workbook(io.BytesIO(archive.read("registre-reclamations.xlsx"))).active
    rows = [row[0] for row in register.iter_rows(min_row=2, values_only=True) if row[0]]
    assert sorted(rows) == complaints
    packed = archive.read("tableau-de-suivi.csv").decode("utf-8-sig")
    table_rows = list(csv.DictReader(io.StringIO(packed), delimiter=";"))
    assert sum(r["Source"] == "Réclamation" for r in table_rows) == len(complaints)
