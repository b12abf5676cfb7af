"""Property-based fuzzing of the event contracts (hypothesis).

For every event type: arbitrary JSON, arbitrary bytes and mutations of its example (a value
replaced by any JSON, a key dropped, an unknown key added) either validate or raise pydantic's
``ValidationError``, never another exception, so a consumer can always route a bad message
to its dead-letter topic. Whatever validates serialises to JSON that the committed JSON
Schema accepts, and reads back as the same event.
"""

from __future__ import annotations

import contextlib
import copy
import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import ValidationError

from boucle_contracts import cli
from boucle_contracts.examples import example_of
from boucle_contracts.registry import (
    ALL_EVENTS,
    AnyEvent,
    UnknownEventTypeError,
    decode_event,
)
from boucle_contracts.schemas import schema_path

pytestmark = pytest.mark.unit

Path = tuple[str | int, ...]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
# Values a contract field could plausibly hold, so mutations often stay valid and the
# round trip through the committed schema is exercised, not only the refusals.
PLAUSIBLE = st.sampled_from(
    ["", "x", "site-a", "2025-03-14T16:41:00Z", "2025-03-14", "fr", "P1D", 0, 1, 5, -1, 2.5]
)
FUZZ = settings(
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
EVENTS = pytest.mark.parametrize("event_class", ALL_EVENTS, ids=lambda cls: cls.EVENT_TYPE)


@cache
def committed_validator(event_class: type[AnyEvent]) -> Any:
    schema = json.loads((cli.DEFAULT_DIR / schema_path(event_class)).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def example_document(event_class: type[AnyEvent]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(example_of(event_class).to_json_bytes())
    return document


def paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a value inside ``node`` (objects and arrays), the root excluded."""
    found: list[Path] = []
    children: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def mutated(document: dict[str, Any], path: Path, how: str, value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    parent: Any = copied
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "replace":
        parent[last] = value
    elif how == "drop":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"unexpected-{last}"] = value
    return copied


def validated_or_refused(event_class: type[AnyEvent], document: Any) -> AnyEvent | None:
    """The event, or None when refused the way consumers expect (ValidationError)."""
    try:
        return event_class.model_validate(document)
    except ValidationError:
        return None


def assert_round_trips(event_class: type[AnyEvent], event: AnyEvent) -> None:
    wire = event.to_json_bytes()
    errors = sorted(
        committed_validator(event_class).iter_errors(json.loads(wire)), key=lambda e: e.path
    )
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert event_class.model_validate_json(wire) == event
    decoded = decode_event(wire)
    assert type(decoded) is event_class
    assert decoded == event


def assert_decoded_or_refused(payload: bytes) -> None:
    """What a consumer does with a message: decode it, or refuse it for the dead letters."""
    with contextlib.suppress(ValidationError, UnknownEventTypeError):
        decode_event(payload)


@st.composite
def mutations(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        targets = paths(document)
        if not targets:
            break
        path = draw(st.sampled_from(targets))
        how = draw(st.sampled_from(["replace", "drop", "add"]))
        document = mutated(document, path, how, draw(PLAUSIBLE | JSON))
    return document


@EVENTS
def test_every_example_round_trips_through_its_committed_schema(
    event_class: type[AnyEvent],
) -> None:
    assert_round_trips(event_class, example_of(event_class))


@EVENTS
def test_a_mutated_example_validates_and_round_trips_or_is_refused(
    event_class: type[AnyEvent],
) -> None:
    @FUZZ
    @given(document=mutations(example_document(event_class)))
    def check(document: dict[str, Any]) -> None:
        event = validated_or_refused(event_class, document)
        if event is not None:
            assert_round_trips(event_class, event)
        assert_decoded_or_refused(json.dumps(document).encode())

    check()


@EVENTS
def test_any_json_validates_and_round_trips_or_is_refused(event_class: type[AnyEvent]) -> None:
    @FUZZ
    @given(document=JSON)
    def check(document: Any) -> None:
        event = validated_or_refused(event_class, document)
        if event is not None:
            assert_round_trips(event_class, event)

    check()


@FUZZ
@given(payload=st.binary(max_size=300) | JSON.map(lambda doc: json.dumps(doc).encode()))
def test_any_message_is_decoded_or_refused_with_a_validation_error(payload: bytes) -> None:
    assert_decoded_or_refused(payload)


@FUZZ
@given(
    event_class=st.sampled_from(ALL_EVENTS),
    cut=st.integers(min_value=0, max_value=2_000),
    junk=st.binary(max_size=8),
)
def test_a_truncated_or_corrupted_event_is_decoded_or_refused(
    event_class: type[AnyEvent], cut: int, junk: bytes
) -> None:
    wire = example_of(event_class).to_json_bytes()
    assert_decoded_or_refused(wire[:cut] + junk)
    assert_decoded_or_refused(wire.replace(b'"', b"", 1 + cut % 5))
