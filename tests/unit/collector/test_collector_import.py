"""File import of CSV/XLSX exports: the API answering per row, and the CLI against a server."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import Workbook  # type: ignore[import-untyped]
from rich.console import Console

from boucle_collector.adapters.tabular_files import TableError, read_table
from boucle_collector.domain.response_mapping import stable_id
from boucle_collector.import_cli import XLSX, import_file, main
from boucle_contracts.feedback.v1 import ScaleAnswer
from tests.unit.collector.collector_support import (
    API_INTEGRATIONS,
    KEYS,
    Collector,
    MakeCollector,
)

pytestmark = pytest.mark.unit

URL = "/v1/imports/networks/net-1/sites/site-a/survey-responses"
HEADERS = {"X-Api-Key": KEYS["lyon-1"], "content-type": "text/csv"}
CSV = (
    "N° questionnaire;Date;Note globale;Formateur;Commentaire;Email;Remarque\n"
    "P-001;18/03/2025 17:30;4;5;Très clair, merci;lea@exemple.fr;\n"
    "P-002;18/03/2025;2;9;Appelez-moi au 06 12 34 56 78;;salle froide\n"
    "P-003;hier;3;3;;;\n"
    ";18/03/2025;3;3;;;\n"
).encode()


@pytest.fixture
def collector(make_collector: MakeCollector) -> Collector:
    return make_collector(integrations=API_INTEGRATIONS)


def test_a_csv_export_is_answered_row_by_row(collector: Collector) -> None:
    response = collector.client.post(
        URL, params={"form": "paper-hot"}, content=CSV, headers=HEADERS
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert [(i["line"], i["status"]) for i in result["items"]] == [
        (2, "accepted"),
        (3, "accepted"),
        (4, "invalid"),
        (5, "invalid"),
    ]
    assert "column Date: 'hier' is not a date" in result["items"][2]["errors"][0]
    assert "column N° questionnaire (the response id) is empty" in result["items"][3]["errors"][0]
    first, second = (event.data for event in collector.sink.events)
    assert first.response_id == "import:paper-hot:P-001"
    assert first.channel == "import"
    assert first.submitted_at.isoformat() == "2025-03-18T17:30:00+01:00"  # Paris local time
    assert first.respondent_ref is not None
    assert first.respondent_ref.startswith("p-")
    assert first.comments[0].text == "Très clair, merci"
    # A 9 on the 1-5 trainer scale is kept verbatim; the column no mapping declares
    # (Remarque) is dropped, and counted.
    (overall,) = second.answers
    assert (overall.question_id, overall.question_label, overall.value) == (
        stable_id("Note globale"),  # a column name is not an identifier: slug and hash
        "Note globale",
        2,
    )
    assert [(u.question_id, u.raw_value) for u in second.unmapped] == [("import:Formateur", "9")]
    assert "salle froide" not in second.model_dump_json()
    assert result["dropped_answers"] == 1
    dropped = {"channel": "import", "integration": "tms-lyon", "form": "paper-hot"}
    assert collector.sample("boucle_collector_dropped_answers_total", **dropped) == 1
    assert second.comments[0].text == "Appelez-moi au [téléphone masqué]"
    assert collector.accepted("fr.boucle.feedback.survey_response_submitted.v1", "import") == 2


def test_re_importing_a_file_publishes_nothing_twice(collector: Collector) -> None:
    for _ in range(2):
        collector.client.post(URL, params={"form": "paper-hot"}, content=CSV, headers=HEADERS)

    assert len(collector.sink.events) == 2


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["N° questionnaire", "Date", "Note globale", "Formateur"])
    sheet.append([101, datetime(2025, 3, 18, 9, 15), 5, 4.0])
    sheet.append([None, None, None, None])  # blank rows are skipped
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_export_is_read_with_typed_cells(collector: Collector) -> None:
    response = collector.client.post(
        URL,
        params={"form": "paper-hot"},
        content=_xlsx(),
        headers={"X-Api-Key": KEYS["lyon-1"], "content-type": XLSX},
    )

    assert response.json()["accepted"] == 1, response.text
    data = collector.sink.events[0].data
    assert data.response_id == "import:paper-hot:101"
    overall, trainer = data.answers
    assert isinstance(trainer, ScaleAnswer)
    assert (overall.value, trainer.value) == (5, 4)


@pytest.mark.parametrize(
    ("params", "headers", "code", "message"),
    [
        ({"form": "nope"}, HEADERS, 422, "form 'nope' is not mapped in integration tms-lyon"),
        (
            {"form": "paper-hot"},
            {"X-Api-Key": KEYS["network"]},
            422,
            "not mapped in integration quality-team",
        ),
        ({"form": "paper-hot"}, {}, 401, "API key missing"),
    ],
    ids=["unknown-form", "integration-without-the-form", "no-key"],
)
def test_import_refusals_name_the_problem(
    collector: Collector, params: dict[str, str], headers: dict[str, str], code: int, message: str
) -> None:
    response = collector.client.post(URL, params=params, content=CSV, headers=headers)

    assert response.status_code == code
    assert message in response.json()["detail"]
    assert collector.sink.events == []


def test_an_unreadable_file_is_422(collector: Collector) -> None:
    response = collector.client.post(
        URL,
        params={"form": "paper-hot"},
        content=b"PK\x03\x04 not really a workbook",
        headers=HEADERS,
    )

    assert response.status_code == 422
    assert "not a readable XLSX workbook" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a,b\n1,2\n", [{"a": "1", "b": "2"}]),
        (b"a\tb\n1\t2\n", [{"a": "1", "b": "2"}]),
        ("\ufeffé;b\nà;2\n".encode(), [{"é": "à", "b": "2"}]),
        ("é;b\nà;2\n".encode("latin-1"), [{"é": "à", "b": "2"}]),
    ],
    ids=["comma", "tab", "utf8-bom", "latin-1"],
)
def test_csv_dialects_and_encodings(content: bytes, expected: list[dict[str, Any]]) -> None:
    assert read_table(content, "text/csv") == expected


@pytest.mark.parametrize("content", [b"", b"a;a\n1;2\n"], ids=["empty", "duplicate-columns"])
def test_a_csv_without_usable_columns_is_refused(content: bytes) -> None:
    with pytest.raises(TableError):
        read_table(content, "text/csv")


# --- the CLI, against the collector served over HTTP --------------------------------------


@pytest.fixture
def served(collector: Collector) -> Iterator[str]:
    config = uvicorn.Config(collector.client.app, host="127.0.0.1", port=0, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_the_cli_sends_the_file_in_chunks_and_reports_rows(
    served: str, collector: Collector, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(CSV)

    counts, invalid = import_file(
        path,
        url=served,
        network="net-1",
        site="site-a",
        form="paper-hot",
        api_key=KEYS["lyon-1"],
        chunk_size=1,
        console=Console(file=io.StringIO()),
    )

    assert counts == {"accepted": 2, "invalid": 2}
    assert [line for line, _ in invalid] == [4, 5]  # lines of the file, across chunks
    assert len(collector.sink.events) == 2


def test_the_cli_exit_codes(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(_xlsx())
    args = [str(path), "--url", served, "--network", "net-1", "--site", "site-a"]
    monkeypatch.delenv("BOUCLE_COLLECTOR_API_KEY", raising=False)

    assert main([*args, "--form", "paper-hot"]) == 2  # no key in the environment
    monkeypatch.setenv("BOUCLE_COLLECTOR_API_KEY", KEYS["lyon-1"])
    assert main([*args, "--form", "paper-hot"]) == 0
    assert main([*args, "--form", "unknown"]) == 2
    assert "1 acceptée(s)" in capsys.readouterr().err
