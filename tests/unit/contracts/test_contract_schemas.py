"""The committed JSON Schemas: they validate the examples, match the models, and are guarded."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from boucle_contracts import cli
from boucle_contracts.examples import EXAMPLES
from boucle_contracts.registry import ALL_EVENTS
from boucle_contracts.schemas import generated, render, schema_path

pytestmark = pytest.mark.unit

COMMITTED_DIR = cli.DEFAULT_DIR
COMMITTED_FILES = sorted(COMMITTED_DIR.rglob("*.json"))
SURVEY = Path("feedback/v1/survey_response_submitted.json")


def _load(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _validator(schema: dict[str, Any]) -> Any:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    shutil.copytree(COMMITTED_DIR, root)
    return root


def test_one_committed_schema_per_event_type() -> None:
    assert {p.relative_to(COMMITTED_DIR) for p in COMMITTED_FILES} == {
        schema_path(cls) for cls in ALL_EVENTS
    }


@pytest.mark.parametrize("path", COMMITTED_FILES, ids=lambda p: str(p.relative_to(COMMITTED_DIR)))
def test_committed_schema_validates_its_example(path: Path) -> None:
    schema = _load(path)
    validator = _validator(schema)

    assert len(schema["examples"]) == 1
    validator.validate(schema["examples"][0])
    live = EXAMPLES[schema["title"]].model_dump(mode="json", by_alias=True, exclude_none=True)
    validator.validate(live)


def test_committed_schema_rejects_a_broken_example() -> None:
    schema = _load(COMMITTED_DIR / SURVEY)
    validator = _validator(schema)
    broken = copy.deepcopy(schema["examples"][0])
    del broken["networkid"]
    broken["data"]["answers"][0]["value"] = "quatre"
    broken["data"]["survey_kind"] = "tiede"

    messages = sorted(error.message for error in validator.iter_errors(broken))

    assert any("'networkid' is a required property" in m for m in messages), messages
    assert any("'tiede' is not one of" in m for m in messages), messages
    # The answers union rejects the retyped scale answer.
    assert any("'quatre'" in m or "is not valid under any" in m for m in messages), messages


def test_check_passes_on_the_committed_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    assert "30 committed schemas match the models" in capsys.readouterr().out


def test_export_to_an_empty_folder_writes_the_committed_files(tmp_path: Path) -> None:
    target = tmp_path / "fresh"

    assert cli.main(["export", "--dir", str(target)]) == 0

    assert _snapshot(target) == _snapshot(COMMITTED_DIR)
    assert cli.main(["check", "--dir", str(target)]) == 0


def test_export_refuses_when_the_model_lost_a_field(
    schema_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The committed schema has a field the model no longer has: as if it was removed.
    path = schema_copy / "incidents/v1/complaint_received.json"
    schema = _load(path)
    schema["$defs"]["ComplaintReceived"]["properties"]["legacy_code"] = {"type": "string"}
    path.write_text(render(schema), encoding="utf-8")
    before = _snapshot(schema_copy)

    assert cli.main(["export", "--dir", str(schema_copy)]) == 1

    out = capsys.readouterr().out
    assert "Refusing to export" in out
    assert (
        "incidents/v1/complaint_received.json: /data/legacy_code: field removed or renamed" in out
    )
    assert _snapshot(schema_copy) == before


def test_export_allow_breaking_overwrites(schema_copy: Path) -> None:
    path = schema_copy / "incidents/v1/complaint_received.json"
    schema = _load(path)
    schema["$defs"]["ComplaintReceived"]["properties"]["legacy_code"] = {"type": "string"}
    path.write_text(render(schema), encoding="utf-8")

    assert cli.main(["export", "--dir", str(schema_copy), "--allow-breaking"]) == 0

    assert "legacy_code" not in path.read_text(encoding="utf-8")
    assert _snapshot(schema_copy) == _snapshot(COMMITTED_DIR)


def test_check_reports_drift_that_is_not_breaking(
    schema_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = schema_copy / SURVEY
    schema = _load(path)
    schema["$defs"]["Comment"]["properties"]["text"]["description"] = "edited by hand"
    path.write_text(render(schema), encoding="utf-8")

    assert cli.main(["check", "--dir", str(schema_copy)]) == 1

    out = capsys.readouterr().out
    assert "Schemas differ from the models" in out
    assert str(SURVEY) in out
    assert "Breaking" not in out


def test_check_reports_a_missing_schema(
    schema_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (schema_copy / SURVEY).unlink()

    assert cli.main(["check", "--dir", str(schema_copy)]) == 1
    assert str(SURVEY) in capsys.readouterr().out


def test_check_reports_a_schema_whose_event_was_deleted(
    schema_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(schema_copy / SURVEY, schema_copy / "feedback/v1/survey_abandoned.json")

    assert cli.main(["check", "--dir", str(schema_copy)]) == 1
    assert "feedback/v1/survey_abandoned.json: schema deleted" in capsys.readouterr().out


def test_generated_schemas_carry_id_title_and_example() -> None:
    for cls in ALL_EVENTS:
        schema = generated()[schema_path(cls)]
        assert schema["$id"] == cls.DATA_SCHEMA
        assert schema["title"] == cls.EVENT_TYPE
        assert schema["examples"][0]["type"] == cls.EVENT_TYPE
        assert schema["examples"][0]["id"] == EXAMPLES[cls.EVENT_TYPE].id
