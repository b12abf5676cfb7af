"""``python -m boucle_reporter.verify --network X``: walk a network's evidence chain.

Exit status 0 when every link holds, 1 at the first broken link (named on stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from boucle_reporter.adapters.mongo import MongoEvidenceLog
from boucle_reporter.domain.chain import Verification
from boucle_reporter.settings import ReporterSettings
from boucle_runtime.mongo import mongo_client


async def verify(settings: ReporterSettings, network_id: str) -> Verification:
    client = mongo_client(settings, app_name="boucle-reporter-verify")
    try:
        return await MongoEvidenceLog(client, settings.mongodb_database).verify(
            network_id=network_id
        )
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boucle-reporter-verify", description=__doc__)
    parser.add_argument("--network", required=True, help="network id")
    args = parser.parse_args(argv)
    result = asyncio.run(verify(ReporterSettings(), args.network))
    print(json.dumps(result.report(), indent=2, ensure_ascii=False))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
