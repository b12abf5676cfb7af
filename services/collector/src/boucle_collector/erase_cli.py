"""Erase a data subject in every Boucle service, through a running collector.

    printf '%s\\n' jeanne.dupont@example.fr | python -m boucle_collector.erase_cli \\
        --url http://127.0.0.1:8081 --network reseau-horizon --identities-from-stdin
    python -m boucle_collector.erase_cli --network reseau-horizon --subject lrn-7f3a9c

Identities (e-mail addresses, platform respondent ids) are read from standard input, one a
line, never from the command line (shell history, process lists); the API key of the
network's administration integration from the environment (``--api-key-env``, default
``BOUCLE_COLLECTOR_ADMIN_API_KEY``). Prints the request id and the number of pseudonyms
being erased; each service then erases what it holds (docs/privacy-register.md). Exit code:
0 accepted, 2 refused or unavailable (a retry with the same ``--request-id`` is safe).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

import httpx


def request_erasure(
    client: httpx.Client,
    *,
    network: str,
    identities: list[str],
    subject_refs: list[str],
    request_id: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"identities": identities, "subject_refs": subject_refs}
    if request_id:
        body["request_id"] = request_id
    return client.post(f"/v1/networks/{network}/privacy/erasures", json=body)


def main(
    argv: list[str] | None = None,
    *,
    stdin: TextIO | None = None,
    client: httpx.Client | None = None,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boucle_collector.erase_cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default="http://127.0.0.1:8081", help="Collector base URL")
    parser.add_argument("--network", required=True)
    parser.add_argument("--subject", action="append", default=[], help="a pseudonym (repeat)")
    parser.add_argument("--identities-from-stdin", action="store_true")
    parser.add_argument("--request-id", help="your reference; the same one retries safely")
    parser.add_argument("--api-key-env", default="BOUCLE_COLLECTOR_ADMIN_API_KEY")
    args = parser.parse_args(argv)
    identities = []
    if args.identities_from_stdin:
        identities = [line.strip() for line in (stdin or sys.stdin) if line.strip()]
    if not identities and not args.subject:
        parser.error("name someone: --subject, or identities on stdin with --identities-from-stdin")
    if client is None:
        api_key = os.environ.get(args.api_key_env, "")
        if not api_key:
            print(
                f"Variable d'environnement {args.api_key_env} absente (clé d'API).", file=sys.stderr
            )
            return 2
        client = httpx.Client(base_url=args.url, headers={"X-Api-Key": api_key}, timeout=30)
    with client:
        try:
            reply = request_erasure(
                client,
                network=args.network,
                identities=identities,
                subject_refs=args.subject,
                request_id=args.request_id,
            )
        except httpx.HTTPError as exc:
            print(f"Collecteur injoignable : {type(exc).__name__}", file=sys.stderr)
            return 2
    if reply.status_code != 202:
        print(f"Demande refusée ({reply.status_code}) : {reply.text}", file=sys.stderr)
        return 2
    accepted = reply.json()
    print(
        f"Demande {accepted['request_id']} acceptée : {accepted['subjects']} pseudonyme(s) "
        "en cours d'effacement dans chaque service."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
