#!/usr/bin/env python3
"""Vérification hors ligne du journal de preuves d'un dossier Boucle.

    python3 verification/verifier.py <dossier extrait> [--cle-publique cle.pem]

Bibliothèque standard de Python 3.9+ seulement ; la signature Ed25519 de la tête de chaîne
est vérifiée si le paquet ``cryptography`` est installé (sinon le script le dit et ne
conclut pas sur la signature). Code de sortie 0 : tout est vérifié ; 1 : un contrôle
échoue (le message dit lequel) ; 2 : fichiers manquants ou illisibles.

Ce script est copié tel quel dans chaque dossier (dossier/verification/verifier.py) :
il ne dépend d'aucun module de Boucle.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
ENTRIES = "verification/entrees.jsonl"
JOURNAL = "journal-preuves.json"
SUMS = "SHA256SUMS"


def _canonical(document: Any) -> bytes:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_sums(root: Path) -> list[str]:
    """Chaque fichier listé dans SHA256SUMS a l'empreinte annoncée."""
    problems = []
    for line in (root / SUMS).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        path = root / name
        if not path.is_file():
            problems.append(f"fichier manquant : {name}")
        elif _sha256(path.read_bytes()) != digest:
            problems.append(f"fichier modifié (empreinte différente) : {name}")
    return problems


def _link(entry: dict[str, Any], previous: str) -> str | None:
    """Le problème du maillon, ou None s'il est intact."""
    if entry.get("previous_hash") != previous:
        return "l'empreinte précédente ne correspond pas à l'entrée d'avant"
    if int(entry.get("v", 1)) == 1:
        body = entry.get("body")
        if not isinstance(body, str):
            return "entrée de version 1 sans son contenu : maillon invérifiable"
        expected = _sha256(previous.encode("ascii") + body.encode("utf-8"))
    else:
        body_hash = entry.get("body_hash")
        if not isinstance(body_hash, str):
            return "entrée sans empreinte de contenu"
        expected = _sha256((previous + body_hash).encode("ascii"))
    if expected != entry.get("hash"):
        return "l'empreinte de l'entrée ne correspond pas à son contenu (entrée modifiée)"
    return None


def check_chain(root: Path, head: dict[str, Any]) -> tuple[list[str], int]:
    """Les entrées, dans l'ordre, de la n° 1 à la tête de chaîne signée."""
    previous, expected_seq = GENESIS, 1
    with (root / ENTRIES).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            entry = json.loads(line)
            seq = int(entry.get("seq", -1))
            if seq != expected_seq:
                return [
                    f"ligne {number} : entrée n° {seq} trouvée là où la n° {expected_seq} "
                    "était attendue (entrée supprimée ou déplacée)"
                ], expected_seq - 1
            problem = _link(entry, previous)
            if problem:
                return [f"entrée n° {seq} : {problem}"], seq - 1
            previous, expected_seq = str(entry["hash"]), seq + 1
    last = expected_seq - 1
    if int(head.get("seq", -1)) != last or head.get("hash") != previous:
        return [
            f"la tête de chaîne (entrée n° {head.get('seq')}) ne correspond pas à la dernière "
            f"entrée fournie (n° {last}) : entrées retirées ou modifiées"
        ], last
    return [], last


def check_signature(head: dict[str, Any], pem: str | None) -> tuple[list[str], str]:
    """(problèmes, constat) de la signature de la tête de chaîne."""
    signature = head.get("signature")
    if not signature:
        return ["la tête de chaîne n'est pas signée"], "non signée"
    if pem is None:
        return ["aucune clé publique fournie pour vérifier la signature"], "non vérifiée"
    try:  # optional: the rest of the script needs the standard library only
        from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
            Ed25519PublicKey,
        )
        from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
            load_pem_public_key,
        )
    except ImportError:
        return [], "non vérifiée : installer le paquet « cryptography » pour la vérifier"
    key = load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        return ["la clé publique fournie n'est pas une clé Ed25519"], "non vérifiée"
    payload = _canonical({k: v for k, v in head.items() if k != "signature"})
    try:
        key.verify(base64.b64decode(signature), payload)
    except InvalidSignature:
        return ["signature de la tête de chaîne invalide (tête falsifiée ou autre clé)"], "invalide"
    return [], f"valide (clé {head.get('key_id')})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Vérifie hors ligne le journal de preuves.")
    parser.add_argument(
        "dossier", type=Path, help="dossier de preuves extrait (le zip décompressé)"
    )
    parser.add_argument(
        "--cle-publique",
        type=Path,
        help="clé publique PEM obtenue de l'organisme (par défaut : celle du dossier)",
    )
    args = parser.parse_args(argv)
    root: Path = args.dossier
    try:
        journal = json.loads((root / JOURNAL).read_text(encoding="utf-8"))
        problems = check_sums(root)
        head = journal["signed_head"]
        chain_problems, entries = check_chain(root, head)
    except (OSError, ValueError, KeyError) as error:
        print(f"ÉCHEC : dossier incomplet ou illisible ({error})")
        return 2
    problems += chain_problems
    key = journal.get("public_key") or {}
    pem = args.cle_publique.read_text(encoding="ascii") if args.cle_publique else key.get("pem")
    signature_problems, signature = check_signature(head, pem)
    problems += signature_problems
    print(f"Réseau : {journal.get('network_id')}")
    print(f"Entrées vérifiées : {entries} ; tête de chaîne n° {head.get('seq')}")
    print(f"Signature de la tête : {signature}")
    if not args.cle_publique:
        print("Clé publique : celle du dossier (à comparer à celle que publie l'organisme)")
    if problems:
        for problem in problems:
            print(f"ÉCHEC : {problem}")
        return 1
    print("RÉSULTAT : journal de preuves intègre")
    return 0


if __name__ == "__main__":
    sys.exit(main())
