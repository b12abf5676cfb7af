"""The erasure command: identities from stdin, the collector's answer in words."""

from __future__ import annotations

import io

import pytest

from boucle_collector.domain.privacy import Pseudonymiser
from boucle_collector.erase_cli import main
from boucle_contracts.privacy.v1 import SubjectErasureRequestedV1
from tests.unit.collector.collector_support import API_INTEGRATIONS, PSEUDONYM_SECRET, MakeCollector
from tests.unit.collector.test_collector_mappings_api import ADMIN_KEY, ADMINS

pytestmark = pytest.mark.unit


def test_identities_come_from_stdin_and_only_pseudonyms_leave(
    make_collector: MakeCollector, capsys: pytest.CaptureFixture[str]
) -> None:
    collector = make_collector(integrations=API_INTEGRATIONS + ADMINS)
    collector.client.headers["X-Api-Key"] = ADMIN_KEY

    code = main(
        ["--network", "net-1", "--identities-from-stdin", "--subject", "lrn-8842"],
        stdin=io.StringIO("jeanne.dupont@example.fr\n\n"),
        client=collector.client,
    )

    assert code == 0
    refs = {
        e.data.subject_ref
        for e in collector.sink.events
        if isinstance(e, SubjectErasureRequestedV1)
    }
    pseudonym = Pseudonymiser(PSEUDONYM_SECRET.encode()).pseudonym("jeanne.dupont@example.fr")
    assert refs == {pseudonym, "lrn-8842"}
    out = capsys.readouterr().out
    assert "2 pseudonyme(s)" in out
    assert "dupont" not in out


def test_a_refusal_exits_2(
    make_collector: MakeCollector, capsys: pytest.CaptureFixture[str]
) -> None:
    collector = make_collector(integrations=API_INTEGRATIONS + ADMINS)
    collector.client.headers["X-Api-Key"] = "key-network-wide"  # not the administration key

    assert main(["--network", "net-1", "--subject", "lrn-8842"], client=collector.client) == 2
    assert "403" in capsys.readouterr().err
