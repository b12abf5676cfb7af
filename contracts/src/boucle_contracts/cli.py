"""``boucle-contracts``: export the JSON Schemas, or check them for drift and breaking changes.

    boucle-contracts export [--dir contracts/schemas] [--allow-breaking]
    boucle-contracts check  [--dir contracts/schemas]

``export`` refuses to overwrite a committed schema with an incompatible one: a breaking
change must become a new major version (a new module ``<family>/v2.py``) beside v1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from boucle_contracts.schemas import breaking_changes, generated, load_committed, render

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "schemas"


def _breaking(root: Path) -> list[str]:
    committed = load_committed(root)
    fresh = generated()
    problems = [f"{path}: schema deleted" for path in committed if path not in fresh]
    for path, schema in fresh.items():
        if path in committed:
            problems += [f"{path}: {line}" for line in breaking_changes(committed[path], schema)]
    return problems


def export(root: Path, *, allow_breaking: bool) -> int:
    problems = _breaking(root) if root.exists() else []
    if problems and not allow_breaking:
        print(
            "Refusing to export: these changes break v1 consumers;"
            " publish a new major version instead:"
        )
        print("\n".join(f"  - {line}" for line in problems))
        return 1
    for path, schema in generated().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(schema), encoding="utf-8")
    print(f"wrote {len(generated())} schemas under {root}")
    return 0


def check(root: Path) -> int:
    problems = _breaking(root)
    committed = load_committed(root)
    drift = [
        str(p)
        for p, s in generated().items()
        if p not in committed or render(committed[p]) != render(s)
    ]
    if problems:
        print("Breaking changes against the committed schemas:")
        print("\n".join(f"  - {line}" for line in problems))
    if drift:
        print("Schemas differ from the models (run `make schemas` and commit):")
        print("\n".join(f"  - {line}" for line in drift))
    if not problems and not drift:
        print(f"{len(committed)} committed schemas match the models")
    return 1 if problems or drift else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boucle-contracts", description=__doc__)
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help="schema folder (default: contracts/schemas)"
    )
    parser.add_argument(
        "--allow-breaking", action="store_true", help="overwrite even incompatible schemas"
    )
    args = parser.parse_args(argv)
    if args.command == "export":
        return export(args.dir, allow_breaking=args.allow_breaking)
    return check(args.dir)


if __name__ == "__main__":
    sys.exit(main())
