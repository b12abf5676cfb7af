"""Message catalogues: one gettext ``.po`` file per language and service, French first.

Message ids are symbolic (``email.invitation.subject``…) so that a code never reaches a
reader untranslated by accident. The ``.po`` files are compiled in memory by Babel when
first used: no compiled ``.mo`` is committed nor built by ``make``.
"""

from __future__ import annotations

import gettext
import io
from functools import cached_property
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
DEFAULT_LANGUAGE = "fr"


class Catalogues:
    """The catalogues of one gettext domain under ``locale_dir/<lang>/LC_MESSAGES/``."""

    def __init__(self, locale_dir: Path, domain: str) -> None:
        self._dir = locale_dir
        self._domain = domain

    def language(self, requested: str | None) -> str:
        return requested if requested in LOCALES else DEFAULT_LANGUAGE

    def path(self, language: str) -> Path:
        return self._dir / language / "LC_MESSAGES" / f"{self._domain}.po"

    @cached_property
    def _compiled(self) -> dict[str, tuple[gettext.GNUTranslations, frozenset[str]]]:
        loaded = {}
        for language, locale in LOCALES.items():
            with self.path(language).open("rb") as source:
                catalog = read_po(source, locale=locale, domain=self._domain)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            ids = frozenset(str(m.id) for m in catalog if m.id and m.string)
            loaded[language] = (gettext.GNUTranslations(buffer), ids)
        return loaded

    def compiled(self, language: str) -> tuple[gettext.GNUTranslations, frozenset[str]]:
        """The language's translations and the ids it translates (French if unknown)."""
        return self._compiled[self.language(language)]

    def message_ids(self, language: str) -> frozenset[str]:
        return self.compiled(language)[1]

    def translate(self, language: str | None, key: str, **values: Any) -> str:
        """The message in ``language`` (French when missing there); an id found in no
        catalogue is a programming error, raised rather than shown to a reader."""
        for candidate in (self.language(language), DEFAULT_LANGUAGE):
            translations, ids = self._compiled[candidate]
            if key in ids:
                text = translations.gettext(key)
                return text.format(**values) if values else text
        raise KeyError(f"message {key!r} is in no catalogue of {self._domain}")
