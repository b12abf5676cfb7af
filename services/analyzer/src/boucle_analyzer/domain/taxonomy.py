"""The theme taxonomy of a network: themes, their words, and the cues of a complaint. Pure.

A JSON object (``config/taxonomy.fr.json`` is the default; a network may have its own):

* ``themes``: slug → ``label``, ``terms`` (words naming the theme: "plateforme", "salle")
  and, optionally, ``cues`` (words or phrases that complain about that theme by themselves:
  "se déconnecter", "vétuste", "lire ses diapositives");
* ``problem_terms``: cues of a complaint whatever the theme ("impossible", "trop",
  "manque", "aucun"); ``positive_phrases``: phrases that say all is well although they hold
  a negation or a problem word ("pas de souci", "rien à redire", "aucun problème");
* ``negators`` (negate alone: "pas", "jamais", "sans"…) and ``negators_after_ne`` (only
  with a "ne" in the clause: "plus", "guère");
* ``clause_breaks``: words that start a clause of its own tone ("mais", "par contre");
* ``consequence_terms``: verbs of what a problem prevented ("impossible de *finir* les
  modules"): the themes named after them yield to the cause named elsewhere in the comment;
* ``typo_min_length`` and ``not_typos``: words at least that long that are one edit away
  from a word of a theme's terms, with the same first letter, count as that word
  ("platefrome", "fomateur"), except the listed real words ("intérêt" is not "internet").

Version 1 files (``terms``, ``problem_terms``, ``positive_terms``, ``negators``,
``clause_breaks`` only) still load: the new keys are optional. ``positive_terms`` is read
and kept for them but no longer decides anything: every negated word now makes its clause
negative unless it negates a problem word ("pas de retard").

Every word is matched on its key (:func:`~boucle_analyzer.domain.french_text.word_key`:
folded Snowball stem), on the token's text and on its lemma; the words of a phrase may be
up to :data:`PHRASE_GAP` tokens apart ("lisait *ses* diapositives").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from boucle_analyzer.domain.french_text import fold, word_key

PHRASE_GAP = 2  # tokens allowed between two words of a phrase
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PHRASE_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)

Phrase = tuple[str, ...]  # word keys, in order


def phrase(term: str) -> Phrase:
    return tuple(k for k in (word_key(w) for w in _PHRASE_WORD.findall(term)) if k)


def _phrases(terms: Iterable[Any]) -> tuple[Phrase, ...]:
    return tuple(p for p in (phrase(str(t)) for t in terms) if p)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class Taxonomy:
    themes: Mapping[str, tuple[Phrase, ...]]  # theme → its terms (kept: callers test slugs)
    labels: Mapping[str, str]
    problems: tuple[Phrase, ...]
    positives: tuple[Phrase, ...]
    negators: frozenset[str]
    clause_breaks: tuple[Phrase, ...]
    cues: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict)
    positive_phrases: tuple[Phrase, ...] = ()
    negators_after_ne: frozenset[str] = frozenset()
    consequences: frozenset[str] = frozenset()
    typo_min_length: int = 0  # 0: no typo tolerance
    typos: Mapping[str, str] = field(default_factory=dict)  # variant → the term word's key
    not_typos: frozenset[str] = frozenset()  # real words one edit away from a term
    known: frozenset[str] = frozenset()  # every key of a phrase: no typo looked for then

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Taxonomy:
        themes = config.get("themes")
        if not isinstance(themes, Mapping) or not themes:
            raise ValueError("taxonomy: 'themes' must be a non-empty object")
        for slug, theme in themes.items():
            if not _SLUG.fullmatch(slug):
                raise ValueError(f"taxonomy: theme name {slug!r} is not a slug")
            if not theme.get("terms"):
                raise ValueError(f"taxonomy: theme {slug!r} has no terms")
        typo_min_length = int(config.get("typo_min_length", 0))
        not_typos = {fold(w) for w in config.get("not_typos", ())}
        # Typos are looked for on the words naming themes ("platefrome", "fomateur"): cue
        # words are too close to other real words ("instable" / "installé").
        words = [
            str(word)
            for theme in themes.values()
            for term in theme["terms"]
            for word in _PHRASE_WORD.findall(str(term))
        ]
        themes_terms = {slug: _phrases(theme["terms"]) for slug, theme in themes.items()}
        cues = {slug: _phrases(theme.get("cues", ())) for slug, theme in themes.items()}
        problems = _phrases(config.get("problem_terms", ()))
        positive_phrases = _phrases(config.get("positive_phrases", ()))
        every = [*problems, *positive_phrases]
        every += [p for ps in (*themes_terms.values(), *cues.values()) for p in ps]
        return cls(
            themes=themes_terms,
            labels={slug: str(theme.get("label", slug)) for slug, theme in themes.items()},
            problems=problems,
            positives=_phrases(config.get("positive_terms", ())),
            negators=frozenset(word_key(t) for t in config.get("negators", ())),
            clause_breaks=_phrases(config.get("clause_breaks", ())),
            cues=cues,
            positive_phrases=positive_phrases,
            negators_after_ne=frozenset(word_key(t) for t in config.get("negators_after_ne", ())),
            consequences=frozenset(word_key(t) for t in config.get("consequence_terms", ())),
            typo_min_length=typo_min_length,
            typos=_typo_index(words, typo_min_length) if typo_min_length else {},
            not_typos=frozenset(not_typos),
            known=frozenset(k for p in every for k in p),
        )

    def typo_keys(self, word: str) -> set[str]:
        """Keys of the theme words ``word`` is one edit away from (deletion, insertion,
        substitution or swap of two neighbours: symmetric deletions), first letter kept."""
        folded = fold(word)
        if len(folded) < self.typo_min_length or not self.typos or folded in self.not_typos:
            return set()
        variants = {folded} | _deletions(folded)
        return {
            key for v in variants if (key := self.typos.get(v)) is not None and key[0] == folded[0]
        }


def _typo_index(words: Iterable[str], min_length: int) -> dict[str, str]:
    index: dict[str, str] = {}
    for word in sorted({fold(w) for w in words}):
        if len(word) >= min_length:
            key = word_key(word)
            for variant in (word, *_deletions(word)):
                index.setdefault(variant, key)
    return index


@dataclass(frozen=True)
class TaxonomyCatalog:
    """The default taxonomy and the networks' own (a network's file replaces the default)."""

    default: Taxonomy
    overrides: Mapping[str, Taxonomy] = field(default_factory=dict)

    def for_network(self, network_id: str) -> Taxonomy:
        return self.overrides.get(network_id, self.default)
