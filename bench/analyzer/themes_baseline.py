"""The analyzer's former themes classifier, frozen as it was before issue 13: the baseline of
``bench.analyzer.themes``, with the taxonomy it shipped with (``taxonomy_baseline.fr.json``).
Emerging terms left out. What follows is its own description.

Text is lower-cased, stripped of accents (``unicodedata``), split on elisions and
punctuation, and stemmed (Snowball French), so "connexions", "Connexion" and "connéxion"
meet. Each clause (split on punctuation and "mais", "cependant"…) is negative when it holds
a problem word that no negator precedes ("impossible de se connecter", but not "pas de
problème de connexion"), or a positive word that a negator surrounds ("la plateforme ne
fonctionne pas"). A comment's themes are the taxonomy themes named in its negative clauses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]

NEGATION_WINDOW = 3  # tokens
_WORD = re.compile(r"[a-z0-9]+")
_CLAUSE = re.compile(r"[.!?;,:()\n]+")
_STOPWORD_TEXT = (
    "le la les l un une des de du d a au aux et ou en je j il elle on nous vous ils elles "
    "me m se s te t ce c ca cet cette ces mon ma mes son sa ses est etait ete sont ai avait "
    "avons avez ont pour par sur dans avec qui que qu y ne n tres tout tous toute toutes "
    "bien plus pas sans aucun aucune mais rien"
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return snowballstemmer.stemmer("french")


def fold(text: str) -> str:
    """Lower case without accents: "Accès à la Plateforme" → "acces a la plateforme"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def stems(text: str) -> list[str]:
    # Snowball stems some plurals apart from their singular ("connexions" → "connex",
    # "connexion" → "connexion"): a final s is dropped first, on every text alike.
    words = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _WORD.findall(fold(text))]
    return [str(s) for s in _stemmer().stemWords(words)]


def _phrase(term: str) -> tuple[str, ...]:
    return tuple(stems(term))


@dataclass(frozen=True)
class Taxonomy:
    themes: Mapping[str, tuple[tuple[str, ...], ...]]  # theme → stemmed phrases
    labels: Mapping[str, str]
    problems: tuple[tuple[str, ...], ...]
    positives: tuple[tuple[str, ...], ...]
    negators: frozenset[str]
    clause_breaks: tuple[tuple[str, ...], ...]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Taxonomy:
        themes = config.get("themes")
        if not isinstance(themes, Mapping) or not themes:
            raise ValueError("taxonomy: 'themes' must be a non-empty object")
        for slug, theme in themes.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", slug):
                raise ValueError(f"taxonomy: theme name {slug!r} is not a slug")
            if not theme.get("terms"):
                raise ValueError(f"taxonomy: theme {slug!r} has no terms")

        def phrases(terms: Iterable[str]) -> tuple[tuple[str, ...], ...]:
            return tuple(p for p in (_phrase(t) for t in terms) if p)

        return cls(
            themes={slug: phrases(theme["terms"]) for slug, theme in themes.items()},
            labels={slug: str(theme.get("label", slug)) for slug, theme in themes.items()},
            problems=phrases(config.get("problem_terms", ())),
            positives=phrases(config.get("positive_terms", ())),
            negators=frozenset(s for t in config.get("negators", ()) for s in stems(t)),
            clause_breaks=phrases(config.get("clause_breaks", ())),
        )


@dataclass(frozen=True)
class TaxonomyCatalog:
    """The default taxonomy and the networks' own (a network's file replaces the default)."""

    default: Taxonomy
    overrides: Mapping[str, Taxonomy] = field(default_factory=dict)

    def for_network(self, network_id: str) -> Taxonomy:
        return self.overrides.get(network_id, self.default)


def _find(tokens: Sequence[str], phrase: tuple[str, ...]) -> list[int]:
    size = len(phrase)
    return [i for i in range(len(tokens) - size + 1) if tuple(tokens[i : i + size]) == phrase]


def _clauses(taxonomy: Taxonomy, text: str) -> list[list[str]]:
    clauses: list[list[str]] = []
    for chunk in _CLAUSE.split(text):
        tokens = stems(chunk)
        cuts = sorted({i for b in taxonomy.clause_breaks for i in _find(tokens, b)})
        start = 0
        for cut in [*cuts, len(tokens)]:
            if tokens[start:cut]:
                clauses.append(tokens[start:cut])
            start = cut + 1
    return clauses


def _negated(
    tokens: Sequence[str], at: int, size: int, negators: frozenset[str], *, after: bool
) -> bool:
    before = tokens[max(0, at - NEGATION_WINDOW) : at]
    following = tokens[at + size : at + size + NEGATION_WINDOW] if after else ()
    return any(t in negators for t in (*before, *following))


def is_negative(taxonomy: Taxonomy, clause: Sequence[str]) -> bool:
    for phrase in taxonomy.problems:
        for at in _find(clause, phrase):
            if not _negated(clause, at, len(phrase), taxonomy.negators, after=False):
                return True
    for phrase in taxonomy.positives:
        for at in _find(clause, phrase):
            if _negated(clause, at, len(phrase), taxonomy.negators, after=True):
                return True
    return False


@dataclass(frozen=True, slots=True)
class Classification:
    themes: tuple[str, ...]  # themes of the negative clauses
    mentioned: tuple[str, ...]  # every theme named, whatever the tone
    negative: bool
    stems: tuple[str, ...]  # content stems, for emerging terms


def classify(taxonomy: Taxonomy, text: str) -> Classification:
    negative_themes: dict[str, None] = {}
    mentioned: dict[str, None] = {}
    negative = False
    for clause in _clauses(taxonomy, text):
        named = [
            slug
            for slug, phrases in taxonomy.themes.items()
            if any(_find(clause, phrase) for phrase in phrases)
        ]
        mentioned.update(dict.fromkeys(named))
        if is_negative(taxonomy, clause):
            negative = True
            negative_themes.update(dict.fromkeys(named))
    stop = frozenset(stems(_STOPWORD_TEXT))
    content = sorted({s for s in stems(text) if s not in stop and len(s) > 2})
    return Classification(
        themes=tuple(negative_themes),
        mentioned=tuple(mentioned),
        negative=negative,
        stems=tuple(content),
    )
