"""The main job (``make demo``), reduced: a small sample network through the real paths.

Signed Typeform and Tally webhooks, bulk NDJSON and keyed native API calls into the
collector, the four services as processes on the real broker and database; degradations,
grouped into problems, become actions that are carried out and evaluated; then the audit
pack: its figures must be those of the generated data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from boucle_contracts.incidents.v1 import ComplaintReceived
from tools.demo import analysed_totals, run_loop, stack_config
from tools.demo_ingest import Credentials
from tools.localstack import Stack, StackError
from tools.sample_network import sample_network

# Four services start (two load a French NLP model), a sample network goes through, the loop
# closes and a dossier is built: minutes, more on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


async def test_reduced_main_job_leaves_a_pack_matching_the_sample(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, tmp_path: Path
) -> None:
    network = sample_network(sites=4, months=3, seed=8)
    submissions = list(network.submissions())
    sent = Counter(s.path for s in submissions)
    received = {
        s.payload.complaint_id: s.payload.received_at
        for s in submissions
        if isinstance(s.payload, ComplaintReceived)
    }
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
    # the loop closed: the degradations grouped into problems, one draft action per problem,
    # each carried out and evaluated; effective at the site fixed (the trainer's), not
    # effective (re-opened) where the platform stayed down
    print(
        f"\ndegradations: {len(outcome.degradations)}, problems: {len(outcome.problems)}, "
        f"draft actions: {sum(outcome.actions.values())}\n{dict(outcome.actions)}"
    )
    assert outcome.degradations
    assert outcome.problems
    assert len(outcome.problems) < len(outcome.degradations)
    assert sum(outcome.actions.values()) == len(outcome.problems)
    outcomes = Counter(line.rsplit(" → ", 1)[1] for line in outcome.actions.elements())
    assert outcomes["effective"] > 0
    assert outcomes["reopened"] > 0
    (unfixed,) = network.unfixed_sites
    reopened = [line for line in outcome.actions if line.endswith("→ reopened")]
    assert any(unfixed in line for line in reopened), reopened
    # the outage at several sites, same weeks, same theme: one multi-site problem naming
    # each of them; re-opened, since one of its sites stayed down
    platform = [line for line in outcome.actions if "(platform) : " in line]
    assert len(platform) == 1, platform
    assert all(site in platform[0] for site in network.platform_sites), platform
    assert platform[0].endswith("→ reopened"), platform
    trainer = [line for line in outcome.actions if f"(trainer) : {network.trainer_site}" in line]
    assert trainer, f"no trainer action at {network.trainer_site}"
    assert all(line.endswith("→ effective") for line in trainer), trainer
    archive = zipfile.ZipFile(io.BytesIO(outcome.dossier))
    for line in archive.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256(archive.read(name.lstrip("*"))).hexdigest() == digest, name
    # The sample runs two weeks past today (the evaluation window of today's actions): a
    # dossier reports nothing dated after it was generated, so those complaints wait.
    generated = datetime.fromisoformat(json.loads(archive.read("manifest.json"))["generated_at"])
    complaints = sorted(c for c, at in received.items() if at.date() <= generated.date())
    assert 0 < len(complaints) < len(received)
    register = load_workbook(io.BytesIO(archive.read("registre-reclamations.xlsx"))).active
    rows = [row[0] for row in register.iter_rows(min_row=2, values_only=True) if row[0]]
    assert sorted(rows) == complaints
    packed = archive.read("tableau-de-suivi.csv").decode("utf-8-sig")
    table_rows = list(csv.DictReader(io.StringIO(packed), delimiter=";"))
    assert sum(r["Source"] == "Réclamation" for r in table_rows) == len(complaints)
