"""contracts/README.md stays in step with the registry it documents."""

from __future__ import annotations

import pytest

from boucle_contracts.cli import DEFAULT_DIR
from boucle_contracts.registry import ALL_EVENTS, TOPICS, AnyEvent, TopicSpec, events_on

pytestmark = pytest.mark.unit

README = (DEFAULT_DIR.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_topic_table_row_matches_the_registry(topic: TopicSpec) -> None:
    [row] = [line for line in README.splitlines() if line.startswith(f"| `{topic.name}` |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]

    assert cells[1].split()[0] == str(topic.partitions)
    assert ("compacted" in cells[1]) == topic.compacted
    names = {name.strip(" `") for name in cells[2].split(",")}
    assert names == {cls.EVENT_TYPE.split(".")[3] for cls in events_on(topic.name)}


@pytest.mark.parametrize("event_class", ALL_EVENTS, ids=lambda c: c.EVENT_TYPE)
def test_every_event_type_is_described(event_class: type[AnyEvent]) -> None:
    short = event_class.EVENT_TYPE.removeprefix("fr.boucle.")
    assert f"| `{short}` |" in README
