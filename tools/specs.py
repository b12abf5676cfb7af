"""Each service's generated documents: write them, or check the committed ones for drift.

    .venv/bin/python tools/specs.py export   # write them all
    .venv/bin/python tools/specs.py check    # exit 1, listing the files that differ

Per service, under ``services/<service>/``: ``openapi.json`` (HTTP API), ``asyncapi.json``
(topics consumed and produced, AsyncAPI 3.0; not for the console, which has no broker) and
``.env.example`` (every setting with its default). All come from the code, built with
default settings: nothing connects, and neither the environment nor a ``.env`` file
changes the output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath
from types import NoneType, UnionType
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from fastapi import FastAPI
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from boucle_actions.app import create_app as create_actions
from boucle_actions.settings import ActionsSettings
from boucle_analyzer.app import create_app as create_analyzer
from boucle_analyzer.settings import AnalyzerSettings
from boucle_collector.app import create_app as create_collector
from boucle_collector.settings import CollectorSettings
from boucle_console.app import create_app as create_console
from boucle_console.settings import ConsoleSettings
from boucle_reporter.app import create_app as create_reporter
from boucle_reporter.settings import ReporterSettings
from boucle_runtime.specs import build_app, openapi_document, render, service_specs
from boucle_surveys.app import create_app as create_surveys
from boucle_surveys.settings import SurveysSettings

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "run `make specs` (or `.venv/bin/python tools/specs.py export`) and commit"
SettingsT = TypeVar("SettingsT", bound=BaseSettings)


@dataclass(frozen=True, slots=True)
class Service(Generic[SettingsT]):
    name: str
    create_app: Callable[[SettingsT], FastAPI]
    settings_cls: type[SettingsT]

    @property
    def folder(self) -> Path:
        return Path("services") / self.name


SERVICES: tuple[Service[Any], ...] = (
    Service("collector", create_collector, CollectorSettings),
    Service("analyzer", create_analyzer, AnalyzerSettings),
    Service("actions", create_actions, ActionsSettings),
    Service("reporter", create_reporter, ReporterSettings),
    Service("surveys", create_surveys, SurveysSettings),
)
# Services without a broker (web front ends): openapi.json and .env.example, no asyncapi.json.
HTTP_ONLY: tuple[Service[Any], ...] = (Service("console", create_console, ConsoleSettings),)

# For settings declared without a description; a field's own description always wins.
FIELD_NOTES = {
    "kafka_bootstrap_servers": "Kafka bootstrap servers, comma-separated host:port.",
    "http_host": "Interface the HTTP server listens on (0.0.0.0 in a container).",
    "http_port": "Port of the HTTP API, the health probes and /metrics.",
    "log_level": "Lowest level of the structured logs written.",
    "log_format": "json for log shippers, console for humans.",
    "mongodb_uri": "MongoDB wire-protocol server (MongoDB or FerretDB).",
    "mongodb_database": "Database holding this service's state.",
    "consumer_group": "Kafka consumer group; its poison messages go to boucle.deadletter.<group>.",
    "max_body_bytes": "Largest request body accepted.",
    "snapshot_batch_size": "Most aggregates published per round.",
    "output_dir": "Folder where generated documents are written.",
}
_BOUNDS = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "<="),
)


def _kind(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + "|".join(str(arg) for arg in get_args(annotation))
    if origin is Union or origin is UnionType:
        kinds = [_kind(arg) for arg in get_args(annotation) if arg is not NoneType]
        return " or ".join(kinds) + ", optional"
    if annotation is bool:
        return "true|false"
    return str(getattr(annotation, "__name__", annotation))


def _details(field: FieldInfo) -> str:
    parts = [_kind(field.annotation)]
    for constraint in field.metadata:
        for cls, attribute, symbol in _BOUNDS:
            if isinstance(constraint, cls):
                parts.append(f"{symbol} {getattr(constraint, attribute)}")
    return ", ".join(parts)


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, PurePath):
        text = value.as_posix()
    else:
        text = str(value)
    needs_quotes = any(char.isspace() or char in "#'\"$\\`" for char in text)
    return json.dumps(text) if needs_quotes else text


def env_example(service: str, settings_cls: type[BaseSettings]) -> str:
    """Every setting of ``settings_cls`` (inherited ones too), env-prefixed, with its default.

    A setting without default value (``None``) is shown commented out: an empty value would
    not mean "unset".
    """
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    lines = [
        f"# boucle-{service}: every setting of {settings_cls.__name__}, with its default.",
        f"# Read from {prefix}* environment variables, or from a .env file in the working",
        "# directory (copy this file there and keep only what you change).",
        "# Generated from the settings class by tools/specs.py, do not edit by hand: run",
        "# `make specs` (or `.venv/bin/python tools/specs.py export`) after changing it.",
    ]
    for name, field in settings_cls.model_fields.items():
        note = field.description or FIELD_NOTES.get(name, "")
        details = _details(field)
        lines += ["", f"# {note} ({details})" if note else f"# ({details})"]
        variable = f"{prefix}{name}".upper()
        default = field.get_default(call_default_factory=True)
        if default is None:
            lines.append(f"# {variable}=")
        else:
            lines.append(f"{variable}={_env_value(default)}")
    return "\n".join(lines) + "\n"


def expected_files(
    services: tuple[Service[Any], ...] = SERVICES, http_only: tuple[Service[Any], ...] = HTTP_ONLY
) -> dict[Path, str]:
    """Path relative to the repository root -> content, for every generated file."""
    files: dict[Path, str] = {}
    for service in services:
        specs = service_specs(service.create_app, service.settings_cls)
        files[service.folder / "openapi.json"] = specs.openapi
        files[service.folder / "asyncapi.json"] = specs.asyncapi
        files[service.folder / ".env.example"] = env_example(service.name, service.settings_cls)
    for service in http_only:
        app = build_app(service.create_app, service.settings_cls)
        files[service.folder / "openapi.json"] = render(openapi_document(app))
        files[service.folder / ".env.example"] = env_example(service.name, service.settings_cls)
    return files


def drift(
    root: Path = ROOT,
    services: tuple[Service[Any], ...] = SERVICES,
    http_only: tuple[Service[Any], ...] = HTTP_ONLY,
) -> list[str]:
    """The generated files missing under ``root`` or differing from what the code gives."""
    problems: list[str] = []
    for path, content in expected_files(services, http_only).items():
        target = root / path
        if not target.is_file():
            problems.append(f"{path}: missing")
        elif target.read_text(encoding="utf-8") != content:
            problems.append(f"{path}: differs from the code")
    return problems


def export(root: Path = ROOT) -> int:
    files = expected_files()
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files for {len(SERVICES) + len(HTTP_ONLY)} services")
    return 0


def check(root: Path = ROOT) -> int:
    problems = drift(root)
    if problems:
        print(f"Generated files are stale ({REGENERATE}):")
        print("\n".join(f"  - {line}" for line in problems))
        return 1
    print(f"{len(expected_files())} generated files match the code")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/specs.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["export", "check"])
    args = parser.parse_args(argv)
    return export() if args.command == "export" else check()


if __name__ == "__main__":
    sys.exit(main())
