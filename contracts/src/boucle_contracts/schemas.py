"""JSON Schemas of the events, generated from the models, and their compatibility rules.

Within a major version every change must be *fully* compatible: consumers built on the
previous schema read new events, and new consumers read old ones. So a field may be added
only as optional; a field is never removed, renamed or retyped; enum values are neither
added nor removed (a strict reader would refuse the new value); nothing optional becomes
required, and nothing required becomes optional (older readers still need it). Anything else
is a new major version published beside the old one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from boucle_contracts.registry import ALL_EVENTS, AnyEvent

Schema = dict[str, Any]


def schema_path(event: type[AnyEvent]) -> Path:
    """``<family>/v<major>/<event_name>.json``, from the dataschema URN."""
    _, _, _, family, major, name = event.DATA_SCHEMA.split(":")
    return Path(family) / major / f"{name}.json"


def schema_of(event: type[AnyEvent]) -> Schema:
    """The event's JSON Schema, with its example event (see ``examples.py``) as ``examples``."""
    from boucle_contracts.examples import example  # noqa: PLC0415 - examples import the models

    schema = event.model_json_schema(by_alias=True, mode="validation")
    schema["$id"] = event.DATA_SCHEMA
    schema["title"] = event.EVENT_TYPE
    sample = example(event.EVENT_TYPE)
    schema["examples"] = [sample.model_dump(mode="json", by_alias=True, exclude_none=True)]
    return schema


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[Path, Schema]:
    return {schema_path(event): schema_of(event) for event in ALL_EVENTS}


def load_committed(root: Path) -> dict[Path, Schema]:
    return {
        path.relative_to(root): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.json"))
    }


def _resolve(node: Schema, defs: Schema) -> Schema:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _variants(node: Schema, defs: Schema) -> list[Schema]:
    node = _resolve(node, defs)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [v for option in node[key] for v in _variants(option, defs)]
    return [node]


def _shape(node: Schema) -> str:
    if "const" in node:
        return f"const:{node['const']!r}"
    if "enum" in node:
        return "enum"
    return str(node.get("type", "object" if "properties" in node else "any"))


def _tag(node: Schema) -> str:
    """What tells one object variant of a union from the others: its discriminator."""
    for name, prop in sorted(node.get("properties", {}).items()):
        if "const" in prop:
            return f"{name}={prop['const']!r}"
    return str(node.get("title", "?"))


def _keyed_variants(node: Schema, defs: Schema) -> dict[str, Schema]:
    """The variants a value may take, keyed so that old and new variants can be paired.

    Several object variants (a discriminated union such as survey answers) are told apart
    by their discriminator, so each one is compared with its own counterpart.
    """
    variants = _variants(node, defs)
    several_objects = sum(_shape(v) == "object" for v in variants) > 1
    keyed: dict[str, Schema] = {}
    for variant in variants:
        shape = _shape(variant)
        if shape == "object" and several_objects:
            shape = f"object:{_tag(variant)}"
        keyed[shape] = variant
    return keyed


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every change from ``old`` to ``new`` that breaks the rules above, as readable lines."""
    comparison = _Comparison(old.get("$defs", {}), new.get("$defs", {}))
    comparison.compare(old, new, "")
    return comparison.problems


class _Comparison:
    def __init__(self, old_defs: Schema, new_defs: Schema) -> None:
        self.old_defs = old_defs
        self.new_defs = new_defs
        self.problems: list[str] = []

    def compare(self, old: Schema, new: Schema, where: str) -> None:
        old_variants = _keyed_variants(old, self.old_defs)
        new_variants = _keyed_variants(new, self.new_defs)
        if set(old_variants) != set(new_variants):
            before, after = sorted(old_variants), sorted(new_variants)
            self.problems.append(f"{where or '/'}: type changed from {before} to {after}")
            return
        for shape, old_node in old_variants.items():
            new_node = new_variants[shape]
            if shape == "enum" and set(old_node["enum"]) != set(new_node["enum"]):
                removed = sorted(set(old_node["enum"]) - set(new_node["enum"]))
                added = sorted(set(new_node["enum"]) - set(old_node["enum"]))
                self.problems.append(
                    f"{where or '/'}: enum values changed (removed {removed}, added {added})"
                )
            if shape == "array":
                self.compare(old_node.get("items", {}), new_node.get("items", {}), f"{where}[]")
            if shape.startswith("object"):
                self.compare_object(old_node, new_node, where)

    def compare_object(self, old: Schema, new: Schema, where: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(set(old_props) - set(new_props)):
            self.problems.append(f"{where}/{name}: field removed or renamed")
        for name in sorted(new_required - old_required):
            self.problems.append(f"{where}/{name}: field is now required")
        for name in sorted((old_required - new_required) & set(new_props)):
            self.problems.append(f"{where}/{name}: field is no longer required")
        for name in sorted(set(old_props) & set(new_props)):
            self.compare(old_props[name], new_props[name], f"{where}/{name}")
