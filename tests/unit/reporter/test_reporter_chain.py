"""The evidence log's hash chain: any edit, removal or reordering is found, and where."""

from __future__ import annotations

import dataclasses
import json

import pytest

from boucle_contracts.examples import EXAMPLES
from boucle_reporter.domain.chain import (
    GENESIS,
    ChainEntry,
    ChainHead,
    canonical_json,
    entry_hash,
    seal,
    verify_chain,
)

pytestmark = pytest.mark.unit
NETWORK = "reseau-horizon"  # the network of every contract example


def _chain() -> list[ChainEntry]:
    entries: list[ChainEntry] = []
    for event in EXAMPLES.values():
        document = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        previous = entries[-1].hash if entries else GENESIS
        entries.append(
            seal(network_id=NETWORK, seq=len(entries) + 1, previous_hash=previous, event=document)
        )
    return entries


def _head(entries: list[ChainEntry]) -> ChainHead:
    return ChainHead(entries[-1].seq, entries[-1].hash)


def test_canonical_json_does_not_depend_on_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"d": "é", "c": 2}}) == '{"a":{"c":2,"d":"é"},"b":1}'


def test_each_hash_covers_the_previous_hash_and_the_content() -> None:
    first, second = _chain()[:2]

    assert first.previous_hash == GENESIS
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
    tampered = entries[4].body.replace('"networkid"', '"networkid" ', 1).replace(" ", "", 1)
    edited = json.loads(entries[4].body)
    edited["source"] = "/forged"
    entries[4] = dataclasses.replace(entries[4], body=canonical_json(edited))
    assert tampered  # the original is still well-formed JSON

    result = verify_chain(NETWORK, entries, _head(entries))

    assert not result.ok
    assert result.broken_at == 5
    assert "edited" in (result.problem or "")
    assert result.entries == 4


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = _chain()
    edited = json.loads(entries[2].body) | {"source": "/forged"}
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
