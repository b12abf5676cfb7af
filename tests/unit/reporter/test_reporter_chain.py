"""The evidence log's hash chain: any edit, removal or reordering is found, and where."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from boucle_contracts.examples import EXAMPLES
from boucle_reporter.adapters.ed25519 import Ed25519Signer, PublicKeys, generate_private_pem
from boucle_reporter.domain.chain import (
    CURRENT_VERSION,
    GENESIS,
    ChainEntry,
    ChainHead,
    Verification,
    body_digest,
    canonical_json,
    entry_hash,
    entry_hash_v2,
    erased,
    seal,
    verify_chain,
)
from boucle_reporter.domain.signing import signature_problem, signed_head, signed_verification

pytestmark = pytest.mark.unit
NETWORK = "reseau-horizon"  # the network of every contract example


def _chain(version: int = CURRENT_VERSION, *, switch_at: int | None = None) -> list[ChainEntry]:
    """The examples as a chain of ``version`` entries (v1 up to ``switch_at`` - 1, then v2)."""
    entries: list[ChainEntry] = []
    for event in EXAMPLES.values():
        document = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        previous = entries[-1].hash if entries else GENESIS
        seq = len(entries) + 1
        this = version if switch_at is None else (1 if seq < switch_at else CURRENT_VERSION)
        entries.append(
            seal(network_id=NETWORK, seq=seq, previous_hash=previous, event=document, version=this)
        )
    return entries


def _head(entries: list[ChainEntry]) -> ChainHead:
    return ChainHead(entries[-1].seq, entries[-1].hash)


def test_canonical_json_does_not_depend_on_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"d": "é", "c": 2}}) == '{"a":{"c":2,"d":"é"},"b":1}'


def test_each_hash_covers_the_previous_hash_and_the_content() -> None:
    first, second = _chain(version=1)[:2]

    assert first.previous_hash == GENESIS
    assert first.body is not None
    assert first.hash == entry_hash(GENESIS, first.body)
    assert second.previous_hash == first.hash
    assert json.loads(first.body)["id"] == first.event_id


def test_an_intact_chain_verifies_to_its_head() -> None:
    entries = _chain()

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.ok
    assert (result.entries, result.head) == (len(EXAMPLES), _head(entries))


def test_an_edited_entry_is_reported_at_its_sequence_number() -> None:
    entries = _chain()
    original = entries[4].body or ""
    tampered = original.replace('"networkid"', '"networkid" ', 1).replace(" ", "", 1)
    edited = json.loads(original)
    edited["source"] = "/forged"
    entries[4] = dataclasses.replace(entries[4], body=canonical_json(edited))
    assert tampered  # the original is still well-formed JSON

    result = verify_chain(NETWORK, entries, _head(entries))

    assert not result.ok
    assert result.broken_at == 5
    assert "edited" in (result.problem or "")
    assert result.entries == 4


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = _chain(version=1)
    edited = json.loads(entries[2].body or "") | {"source": "/forged"}
    body = canonical_json(edited)
    entries[2] = dataclasses.replace(
        entries[2], body=body, hash=entry_hash(entries[2].previous_hash, body)
    )

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.broken_at == 4
    assert "previous hash" in (result.problem or "")


def test_a_removed_entry_is_reported() -> None:
    entries = _chain()
    del entries[6]

    result = verify_chain(NETWORK, entries, None)

    assert result.broken_at == 8
    assert "missing" in (result.problem or "")


def test_removing_the_last_entries_contradicts_the_head() -> None:
    entries = _chain()
    head = _head(entries)

    result = verify_chain(NETWORK, entries[:-2], head)

    assert not result.ok
    assert result.broken_at == head.seq


def test_metadata_that_disagrees_with_the_content_is_reported() -> None:
    entries = _chain()
    entries[0] = dataclasses.replace(entries[0], event_type="fr.boucle.forged.v1")

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.broken_at == 1
    assert "type" in (result.problem or "")


# --- v2: the link covers the body's hash, so that a body can be erased (GDPR) -------------

ERASED_AT = datetime(2026, 12, 2, tzinfo=UTC)


def test_a_v2_hash_covers_the_previous_hash_and_the_body_hash() -> None:
    first, second = _chain()[:2]

    assert (first.version, first.body_hash) == (2, body_digest(first.body or ""))
    assert first.hash == entry_hash_v2(GENESIS, body_digest(first.body or ""))
    assert second.previous_hash == first.hash


def test_a_v2_edit_with_recomputed_hashes_breaks_the_next_link() -> None:
    entries = _chain()
    body = canonical_json(json.loads(entries[2].body or "") | {"source": "/forged"})
    digest = body_digest(body)
    entries[2] = dataclasses.replace(
        entries[2],
        body=body,
        body_hash=digest,
        hash=entry_hash_v2(entries[2].previous_hash, digest),
    )

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.broken_at == 4
    assert "previous hash" in (result.problem or "")


def test_a_chain_of_v1_then_v2_entries_verifies() -> None:
    entries = _chain(switch_at=6)

    result = verify_chain(NETWORK, entries, _head(entries))

    assert [e.version for e in entries[4:6]] == [1, 2]
    assert result.ok, result.problem
    assert result.entries == len(EXAMPLES)


def test_a_v1_entry_after_the_switch_to_v2_is_reported() -> None:
    entries = _chain(switch_at=3)
    last = entries[-1]
    document = json.loads(last.body or "")
    entries[-1] = seal(
        network_id=NETWORK,
        seq=last.seq,
        previous_hash=last.previous_hash,
        event=document,
        version=1,
    )

    result = verify_chain(NETWORK, entries, None)

    assert result.broken_at == last.seq
    assert "version 1 entry after a version 2" in (result.problem or "")


def test_an_erased_body_leaves_a_chain_that_verifies() -> None:
    entries = _chain()
    for index in (1, 5):
        entries[index] = erased(entries[index], at=ERASED_AT, reason="subject_request")

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.ok, result.problem
    assert (result.entries, result.erased) == (len(EXAMPLES), 2)
    assert result.report()["erased"] == 2


def test_a_body_erased_with_no_record_of_it_is_reported() -> None:
    entries = _chain()
    entries[3] = dataclasses.replace(entries[3], body=None)

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.broken_at == 4
    assert "no record of its erasure" in (result.problem or "")


def test_an_erased_entry_whose_body_hash_was_edited_is_reported() -> None:
    entries = _chain()
    entries[3] = dataclasses.replace(
        erased(entries[3], at=ERASED_AT, reason="retention:responses"), body_hash="1" * 64
    )

    result = verify_chain(NETWORK, entries, _head(entries))

    assert result.broken_at == 4
    assert "edited" in (result.problem or "")


def test_a_v1_body_cannot_be_erased() -> None:
    entries = _chain(version=1)

    with pytest.raises(ValueError, match="version 1"):
        erased(entries[0], at=ERASED_AT, reason="subject_request")
    result = verify_chain(NETWORK, [dataclasses.replace(entries[0], body=None)], None)
    assert "version 1" in (result.problem or "")


# --- signed heads: a tail rewritten with its head is found by a head signed earlier ----------

SIGNER = Ed25519Signer(generate_private_pem())


def _reseal(entries: list[ChainEntry]) -> list[ChainEntry]:
    """What someone rewriting the database would do: every hash recomputed, valid."""
    chain: list[ChainEntry] = []
    for entry in entries:
        previous = chain[-1].hash if chain else GENESIS
        chain.append(
            seal(
                network_id=NETWORK,
                seq=len(chain) + 1,
                previous_hash=previous,
                event=json.loads(entry.body or ""),
            )
        )
    return chain


def test_removed_tail_entries_are_found_with_a_signed_head() -> None:
    entries = _chain()
    signed = signed_head(NETWORK, _head(entries), SIGNER, ERASED_AT)
    keys = PublicKeys([SIGNER.public_key])
    truncated = entries[:-3]  # ... and the database's head moved back with them

    alone = verify_chain(NETWORK, truncated, _head(truncated))
    anchored = verify_chain(
        NETWORK, truncated, _head(truncated), anchors={signed["seq"]: signed["hash"]}
    )

    assert signature_problem(signed, keys) is None
    assert alone.ok  # the chain alone cannot tell
    assert not anchored.ok
    assert anchored.broken_at == len(EXAMPLES)
    assert "tail rewritten" in (anchored.problem or "")


def test_a_rewritten_tail_is_found_at_the_signed_heads_entry() -> None:
    entries = _chain()
    signed = signed_head(NETWORK, _head(entries), SIGNER, ERASED_AT)
    forged = json.loads(entries[-1].body or "") | {"source": "/rewritten"}
    rewritten = _reseal(
        [*entries[:-1], dataclasses.replace(entries[-1], body=canonical_json(forged))]
    )

    result = verify_chain(
        NETWORK, rewritten, _head(rewritten), anchors={signed["seq"]: signed["hash"]}
    )

    assert verify_chain(NETWORK, rewritten, _head(rewritten)).ok
    assert result.broken_at == len(EXAMPLES)
    assert "differs from a signed head" in (result.problem or "")


def test_a_forged_head_signature_is_detected() -> None:
    entries = _chain()
    signed = signed_head(NETWORK, _head(entries), SIGNER, ERASED_AT)
    keys = PublicKeys([SIGNER.public_key])
    other = Ed25519Signer(generate_private_pem())

    moved = signed | {"seq": 3, "hash": entries[2].hash}  # the head moved back, same signature
    resigned = signed_head(NETWORK, _head(entries), other, ERASED_AT)  # another key
    unsigned = signed_head(NETWORK, _head(entries), None, ERASED_AT)

    assert "forged" in (signature_problem(moved, keys) or "")
    assert "not among the public keys" in (signature_problem(resigned, keys) or "")
    assert "not signed" in (signature_problem(unsigned, keys) or "")
    assert signature_problem(resigned, PublicKeys([SIGNER.public_key, other.public_key])) is None


def test_a_signed_verification_report_survives_its_round_trip() -> None:
    entries = _chain()
    report = signed_verification(verify_chain(NETWORK, entries, _head(entries)), SIGNER)
    stored = json.loads(json.dumps(report.report()))  # as MongoDB and the dossier keep it

    assert report.signature is not None
    assert signature_problem(stored, PublicKeys([SIGNER.public_key])) is None
    assert Verification.from_report(stored) == report
    assert "forged" in (
        signature_problem(stored | {"entries": 1}, PublicKeys([SIGNER.public_key])) or ""
    )
