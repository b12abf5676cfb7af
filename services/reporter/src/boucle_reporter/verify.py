"""``python -m boucle_reporter.verify --network X``: walk a network's evidence chain.

    python -m boucle_reporter.verify --network N \\
        [--public-key evidence.pem ...] [--head journal-preuves.json ...]

Walks the chain in the reporter's database, in sequence order, with constant memory.
``--head`` takes a signed head from an earlier dossier (its ``journal-preuves.json``, or a
signed head alone): its signature, and that of the verification report beside it, are
checked with the ``--public-key`` files (PEM; several blocks per file allowed, the key id
chooses), then the chain must still hold each signed head's entry with that hash. A
forged or unsigned head, or a rewritten tail (the database's head and tail rewritten
together, which the chain alone cannot show), is reported.

Exit status 0 when every link and every head holds, 1 otherwise (named on stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from boucle_reporter.adapters.ed25519 import PublicKeys
from boucle_reporter.adapters.mongo import MongoEvidenceLog
from boucle_reporter.domain.chain import Verification
from boucle_reporter.domain.signing import signature_problem
from boucle_reporter.settings import ReporterSettings
from boucle_reporter.signing import signer_from
from boucle_runtime.mongo import mongo_client


async def verify(
    settings: ReporterSettings, network_id: str, anchors: Mapping[int, str] | None = None
) -> Verification:
    client = mongo_client(settings, app_name="boucle-reporter-verify")
    try:
        evidence = MongoEvidenceLog(client, settings.mongodb_database, signer=signer_from(settings))
        return await evidence.verify(network_id=network_id, anchors=anchors)
    finally:
        await client.close()


def signed_statements(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The signed heads in a file: a dossier's journal (its signed head and verification
    report) or a signed head alone."""
    if "signed_head" in document:
        yield "signed_head", document["signed_head"]
        report = document.get("last_verification")
        if isinstance(report, Mapping) and report.get("ok"):
            yield "last_verification", report
    else:
        yield "head", document


def _head_of(statement: Mapping[str, Any]) -> tuple[int, str]:
    head = statement.get("head", statement)  # a report holds its head under "head"
    return int(head["seq"]), str(head["hash"])


def check_heads(
    network_id: str, files: list[Path], keys: PublicKeys
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Each signed statement's check, and the anchors (seq → hash) of those that verify."""
    checks: list[dict[str, Any]] = []
    anchors: dict[int, str] = {}
    for path in files:
        for name, statement in signed_statements(json.loads(path.read_text(encoding="utf-8"))):
            seq, digest = _head_of(statement)
            problem = signature_problem(statement, keys)
            if problem is None and statement.get("network_id") != network_id:
                problem = f"signed for network {statement.get('network_id')!r}"
            if problem is None and anchors.get(seq, digest) != digest:
                problem = f"another signed head names entry {seq} with another hash"
            checks.append(
                {
                    "file": str(path),
                    "statement": name,
                    "seq": seq,
                    "hash": digest,
                    "key_id": statement.get("key_id"),
                    "signed_at": statement.get("signed_at"),
                    "ok": problem is None,
                    "problem": None if problem is None else f"forged or untrusted head: {problem}",
                }
            )
            if problem is None:
                anchors[seq] = digest
    return checks, anchors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="boucle-reporter-verify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--network", required=True, help="network id")
    parser.add_argument(
        "--public-key", type=Path, action="append", default=[], help="PEM public key file(s)"
    )
    parser.add_argument(
        "--head", type=Path, action="append", default=[], help="signed head from a dossier"
    )
    args = parser.parse_args(argv)
    if args.head and not args.public_key:
        parser.error("--head needs --public-key: a head is only as good as its signature")
    checks, anchors = check_heads(args.network, args.head, PublicKeys.from_files(args.public_key))
    result = asyncio.run(verify(ReporterSettings(), args.network, anchors))
    report = result.report()
    if args.head:
        report["signed_heads"] = checks
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if result.ok and all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
