"""Erasure of evidence bodies: a data subject's request, and retention periods.

    python -m boucle_reporter.erase --network N --subject <pseudonym>
    python -m boucle_reporter.erase --retention

A subject's erasure nulls the body of every entry of the network's evidence log indexed
with their pseudonym, drops the pseudonym from those entries, and blanks the person fields
of their complaints (and the cases of those complaints) in the read model; dates,
categories and counts stay. Retention nulls the bodies older than their data family's
period (``BOUCLE_REPORTER_RETENTION_<FAMILY>_DAYS``), in every network; the service also
applies it every ``RETENTION_INTERVAL_SECONDS``. Either way the chain still verifies (v2
entries link through the body's hash: see ``domain/chain.py``), and the command prints the
network's verification after a subject's erasure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from boucle_contracts.registry import ALL_EVENTS
from boucle_reporter.adapters.mongo import MongoEvidenceLog, MongoReadModel
from boucle_reporter.builds import BuildService
from boucle_reporter.domain.ports import ErasableEvidence, PersonFields
from boucle_reporter.domain.retention import OTHER, cutoffs, types_by_family
from boucle_reporter.settings import ReporterSettings
from boucle_reporter.signing import signer_from
from boucle_runtime.erasure import Erased, Eraser
from boucle_runtime.logging import get_logger
from boucle_runtime.mongo import mongo_client
from boucle_runtime.periodic import BackgroundLoop, every

log = get_logger(__name__)
RETENTION_BATCH = 1_000
DOSSIERS_SCANNED = 10_000
TYPES = types_by_family(event.EVENT_TYPE for event in ALL_EVENTS)


async def erase_subject(
    evidence: ErasableEvidence,
    people: PersonFields,
    *,
    network_id: str,
    subject: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What was erased (never the pseudonym itself: this goes to logs and responses)."""
    now = now or datetime.now(UTC)
    erased = await evidence.erase_subject(network_id=network_id, subject=subject, now=now)
    anonymised = await people.anonymise_complaints(
        network_id=network_id, complaint_ids=erased.complaint_ids, now=now
    )
    log.info(
        "subject_erased",
        network_id=network_id,
        entries=erased.entries,
        version_1_kept=erased.version_1,
        read_model_documents=anonymised,
    )
    return {
        "network_id": network_id,
        "erased_at": now.isoformat(),
        "entries_erased": erased.entries,
        "entries_kept_version_1": erased.version_1,
        "complaints_anonymised": len(erased.complaint_ids),
        "read_model_documents_anonymised": anonymised,
    }


async def apply_retention(
    evidence: ErasableEvidence,
    days: Mapping[str, int | None],
    *,
    now: datetime | None = None,
    limit: int = RETENTION_BATCH,
) -> tuple[dict[str, int], bool]:
    """Erase up to ``limit`` expired bodies per family: (erased per family, more waiting)."""
    now = now or datetime.now(UTC)
    others = [t for family, types in TYPES.items() if family != OTHER for t in types]
    erased: dict[str, int] = {}
    for family, before in cutoffs(days, now).items():
        exclude = family == OTHER
        erased[family] = await evidence.erase_expired(
            types=others if exclude else TYPES[family],
            exclude=exclude,
            family=family,
            before=before,
            now=now,
            limit=limit,
        )
    if any(erased.values()):
        log.info("retention_applied", **erased)
    return erased, any(n >= limit for n in erased.values())


@dataclass(frozen=True, slots=True)
class SubjectEraser:
    """A data subject's erasure over one evidence log and read model (the API's route)."""

    evidence: ErasableEvidence
    people: PersonFields

    async def __call__(self, *, network_id: str, subject: str) -> dict[str, Any]:
        return await erase_subject(
            self.evidence, self.people, network_id=network_id, subject=subject
        )


async def delete_dossiers(builds: BuildService, *, network_id: str) -> int:
    """Delete the network's built dossiers: their evidence journal holds the bodies just
    erased. The build stays listed, as ``erased``; a new build is made without them."""
    deleted = 0
    for build in await builds.store.recent(network_id=network_id, limit=DOSSIERS_SCANNED):
        path = builds.archive_path(build)
        if build.status == "done" and path.exists():
            path.unlink()
            await builds.store.save(replace(build, status="erased"))
            deleted += 1
    return deleted


def subject_eraser(
    evidence: ErasableEvidence, people: PersonFields, builds: BuildService | None = None
) -> Eraser:
    """The reporter's part of an erasure request from the privacy topic (``ErasureFollower``):
    the evidence bodies, the read model's person fields, and the dossiers built with them."""

    async def erase(network_id: str, subject: str, now: datetime) -> Erased:
        report = await erase_subject(
            evidence, people, network_id=network_id, subject=subject, now=now
        )
        entries = int(report["entries_erased"])
        dossiers = await delete_dossiers(builds, network_id=network_id) if builds and entries else 0
        return {
            "evidence_entries": entries,
            "evidence_entries_kept_version_1": int(report["entries_kept_version_1"]),
            "complaints_anonymised": int(report["complaints_anonymised"]),
            "dossiers_deleted": dossiers,
        }

    return erase


def retention_loop(evidence: ErasableEvidence, settings: ReporterSettings) -> BackgroundLoop:
    """Retention on a schedule; a full batch runs again at once (a backlog drains)."""

    async def step() -> bool:
        _, more = await apply_retention(evidence, settings.retention_days())
        return more

    return every(settings.retention_interval_seconds, step, name="evidence_retention")


async def _run(settings: ReporterSettings, args: argparse.Namespace) -> dict[str, Any]:
    client = mongo_client(settings, app_name="boucle-reporter-erase")
    try:
        evidence = MongoEvidenceLog(client, settings.mongodb_database, signer=signer_from(settings))
        if args.retention:
            total: dict[str, int] = {}
            more = True
            while more:
                erased, more = await apply_retention(evidence, settings.retention_days())
                for family, count in erased.items():
                    total[family] = total.get(family, 0) + count
            return {"retention": settings.retention_days(), "entries_erased": total}
        people = MongoReadModel(client, settings.mongodb_database)
        report = await erase_subject(
            evidence, people, network_id=args.network, subject=args.subject
        )
        verification = await evidence.verify(network_id=args.network)
        return report | {"verification": verification.report()}
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="boucle-reporter-erase",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--network", help="network id (with --subject)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--subject", help="pseudonym of the data subject (respondent, learner)")
    what.add_argument("--retention", action="store_true", help="apply the retention periods")
    args = parser.parse_args(argv)
    if args.subject and not args.network:
        parser.error("--subject needs --network")
    result = asyncio.run(_run(ReporterSettings(), args))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    verification = result.get("verification")
    return 1 if verification and not verification["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
