"""What the themes classifier needs from a French NLP pipeline, and a pure fallback. Pure.

:class:`TextAnalyser` is the port: each text comes back as tokens with their lemma, part of
speech, syntactic head and relation, whether the pipeline takes them for a negation word,
and where sentences start. The spaCy adapter (``adapters/spacy_french.py``) fills every
field; :class:`PlainAnalyser` here (regular expressions, elisions expanded, no tagger, no
parse: ``head`` is -1) is what unit tests and a missing model use, and the classifier falls
back on word windows where no parse is given.

:func:`fold` and :func:`stems` are the text normalisation every path shares: lower case
without accents, Snowball French stems.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import snowballstemmer  # type: ignore[import-untyped]

_WORD = re.compile(r"[a-z0-9]+")
# Words, a trailing elision mark kept with its word ("n'", "l'"), and punctuation marks.
_PLAIN_TOKEN = re.compile(r"[^\W_]+(?:[-][^\W_]+)*['’]?|[.!?;,:()…\n]", re.UNICODE)
# Elided words as a lemmatizer would give them: "n'" is "ne", "l'" is "le"…
ELISIONS = {
    "n": "ne",
    "l": "le",
    "d": "de",
    "j": "je",
    "qu": "que",
    "s": "se",
    "c": "ce",
    "m": "me",
    "t": "te",
    "jusqu": "jusque",
    "lorsqu": "lorsque",
    "puisqu": "puisque",
}
PUNCTUATION = frozenset(".!?;,:()…\n")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return snowballstemmer.stemmer("french")


def fold(text: str) -> str:
    """Lower case without accents: "Accès à la Plateforme" → "acces a la plateforme"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def _strip_plural(word: str) -> str:
    # Snowball stems some plurals apart from their singular ("connexions" → "connex",
    # "connexion" → "connexion"): a final s is dropped first, on every text alike.
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def stems(text: str) -> list[str]:
    words = [_strip_plural(w) for w in _WORD.findall(fold(text))]
    return [str(s) for s in _stemmer().stemWords(words)]


@lru_cache(maxsize=65_536)
def word_key(word: str) -> str:
    """The key a word is matched on: its folded Snowball stem ("Connexions" → "connexion").

    Hyphens and apostrophes are dropped ("e-learning" → "elearning", "n'" → "n")."""
    folded = "".join(_WORD.findall(fold(word)))
    return str(_stemmer().stemWord(_strip_plural(folded))) if folded else ""


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    lemma: str
    pos: str = ""  # Universal POS tag; "" when the analyser does not tag
    head: int = -1  # index of the syntactic head in the text; itself at a root; -1: no parse
    dep: str = ""  # Universal Dependencies relation to the head; "" without a parse
    negation: bool = False  # the analyser takes it for a negation word (Polarity=Neg)
    sentence_start: bool = False

    @property
    def is_punctuation(self) -> bool:
        # Line breaks and runs of spaces (spaCy's SPACE tokens) separate like punctuation.
        return self.pos in {"PUNCT", "SPACE"} or self.text in PUNCTUATION


@dataclass(frozen=True, slots=True)
class AnalysedText:
    tokens: tuple[Token, ...]
    parsed: bool  # heads and relations are meaningful


class TextAnalyser(Protocol):
    """A French NLP pipeline seen from the domain: texts in, tokens out, in order."""

    def analyse_many(self, texts: Sequence[str]) -> list[AnalysedText]: ...


def plain_tokens(text: str) -> tuple[Token, ...]:
    """Words and punctuation by regular expression; lemma = the word folded, elision
    expanded. A new sentence after ".", "!", "?" and line breaks."""
    tokens = []
    start = True
    for match in _PLAIN_TOKEN.finditer(text):
        raw = match.group()
        if raw in PUNCTUATION:
            tokens.append(Token(text=raw, lemma=raw, pos="PUNCT", sentence_start=start))
            start = raw in ".!?\n…"
            continue
        word = fold(raw.rstrip("'’"))
        lemma = ELISIONS.get(word, word) if raw[-1] in "'’" else word
        tokens.append(Token(text=raw, lemma=lemma, sentence_start=start))
        start = False
    return tuple(tokens)


class PlainAnalyser:
    """The pure fallback: no model, no parse (see :func:`plain_tokens`)."""

    def analyse_many(self, texts: Sequence[str]) -> list[AnalysedText]:
        return [AnalysedText(tokens=plain_tokens(t), parsed=False) for t in texts]
