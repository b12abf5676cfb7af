"""The main job (``make demo``), reduced: a small sample network through the real paths.

Signed Typeform and Tally webhooks, bulk NDJSON and keyed native API calls into the
collector, the network's names through its referential, the four services as processes on
the real broker and database; degradations, grouped into problems, become actions that the
network's people carry out in data time, with the cases; then the audit pack, checked from
its files as an auditor would (``pack_checks``).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from boucle_contracts.incidents.v1 import ComplaintReceived, HazardReported
from tests.e2e import pack_checks
from tools.demo import analysed_totals, run_loop, stack_config
from tools.demo_ingest import Credentials
from tools.demo_people import ANSWER_DAYS
from tools.demo_summary import unexpected
from tools.localstack import Stack, StackError
from tools.sample_network import fact_time, sample_network

# Four services start (two load a French NLP model), six months of a sample network go
# through, the people act and a dossier is built: many minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


async def test_reduced_main_job_leaves_a_pack_an_auditor_accepts(
    kafka_bootstrap: str, mongodb_uri: str, isolation: str, tmp_path: Path
) -> None:
    network = sample_network(sites=4, months=6, seed=8)
    submissions = list(network.submissions())
    sent = Counter(s.path for s in submissions)
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

    # nothing in the sample is dated today or later; every fact accepted, by every channel
    assert max(fact_time(s.payload) for s in submissions) < datetime.now(UTC)
    assert outcome.sender.accepted == sent
    assert set(outcome.sender.channels) == {"typeform", "tally", "bulk", "api"}
    assert outcome.names["sites"] == len(network.sites)
    # the analyzer counted exactly the facts generated, once each
    assert totals["responses"] == sent["survey-responses"]
    for kind in ("enrolments", "complaints", "hazards", "dropouts"):
        assert totals[kind] == sent[kind], kind
    print(
        f"\ndegradations: {len(outcome.degradations)}, problems: {len(outcome.problems)}, "
        f"cases: {dict(outcome.people.cases)}, meetings: {outcome.people.meetings}\n"
        f"{dict(outcome.actions)}\nreadiness: {outcome.readiness}"
    )
    # the loop closed: one draft per problem, carried through by the people; effective at
    # the trainer's site (fixed), not effective and re-opened where the platform stayed down
    assert outcome.problems
    assert len(outcome.problems) < len(outcome.degradations)
    assert sum(outcome.actions.values()) == len(outcome.problems)
    statuses = Counter(line.rsplit(" → ", 1)[1] for line in outcome.actions.elements())
    assert statuses["effective"] > 0, outcome.actions
    assert statuses["reopened"] + statuses["in_progress"] > 0, outcome.actions
    assert outcome.people.meetings >= 2
    # every case reached an answer, but those of the last days (their deadline runs on)
    assert set(outcome.people.cases) <= {"closed", "answered", "acknowledged", "received"}
    assert outcome.people.cases["closed"] + outcome.people.cases["answered"] > 0
    archive = zipfile.ZipFile(io.BytesIO(outcome.dossier))
    _checks_sums(archive)
    generated = pack_checks.generated_at(archive)
    # every complaint and hazard reaches an answer (the correction), but the recent ones
    received: dict[str, datetime] = {}
    for item in submissions:
        if isinstance(item.payload, ComplaintReceived):
            received[item.payload.complaint_id] = item.payload.received_at
        elif isinstance(item.payload, HazardReported):
            received[item.payload.incident_id] = item.payload.reported_at
    rows = pack_checks.case_rows(archive, received)
    assert len(rows) == len(received)
    reference = pack_checks.TRACKING["reference"]
    for row in pack_checks.unanswered(rows):
        assert (generated - received[row[reference]]).days <= ANSWER_DAYS, row
    # where a measure was taken, the row names it: the funders' complaints and the outage's
    measured = [r for r in rows if r[pack_checks.TRACKING["action"]].strip()]
    assert measured, "no complaint or hazard leads to a measure"
    # nothing dated after the pack was generated, rates between 0 and 100 %
    assert pack_checks.future_dates(archive) == []
    assert all(0 <= p <= 100 for p in pack_checks.percentages(archive))
    # the offline verifier passes on the pack, fails on a copy with one entry edited
    passed = pack_checks.verify_offline(archive)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    tampered = pack_checks.verify_offline(archive, tamper=True)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "ÉCHEC" in tampered.stdout
    # the readiness check lists only what the sample plants on purpose
    assert unexpected(outcome.readiness, network.complaints_still_due(ANSWER_DAYS)) == []


def _checks_sums(archive: zipfile.ZipFile) -> None:
    for line in archive.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256(archive.read(name.lstrip("*"))).hexdigest() == digest, name
