"""Message catalogues: French first, English where translated, French where not, and an
id in no catalogue refused rather than shown to a reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from boucle_runtime.i18n import Catalogues

pytestmark = pytest.mark.unit

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def catalogues(tmp_path: Path) -> Catalogues:
    for lang, body in (
        ("fr", 'msgid "hello"\nmsgstr "Bonjour {name}"\n\nmsgid "only.fr"\nmsgstr "Seulement"\n'),
        ("en", 'msgid "hello"\nmsgstr "Hello {name}"\n'),
    ):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "test.po").write_text(HEADER + body, encoding="utf-8")
    return Catalogues(tmp_path, "test")


def test_french_first_english_where_translated(tmp_path: Path) -> None:
    found = catalogues(tmp_path)
    assert found.translate("fr", "hello", name="Léa") == "Bonjour Léa"
    assert found.translate("en", "hello", name="Léa") == "Hello Léa"
    assert found.translate("de", "hello", name="Léa") == "Bonjour Léa"
    assert found.translate("en", "only.fr") == "Seulement"
    assert found.message_ids("en") == frozenset({"hello"})


def test_an_unknown_id_is_an_error_not_a_code_on_a_page(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match=r"missing\.key"):
        catalogues(tmp_path).translate("fr", "missing.key")
