"""Themes of French free text: which parts of the training a comment complains about. Pure.

A :class:`~boucle_analyzer.domain.french_text.TextAnalyser` (spaCy in production, the plain
fallback in unit tests or without the model) gives tokens with lemmas and, when it parses,
heads. Every word is matched on its folded stem, of the text and of the lemma ("lisait" →
"lire"), and on the taxonomy word one edit away ("platefrome"). The comment is cut into
clauses at punctuation, sentence starts and contrast words ("mais", "par contre"): each
clause has its own tone.

A clause is negative when it holds a complaint cue ("impossible", "instable", a theme's own
cue such as "se déconnecter") that nothing negates, or a negation ("ne … pas", "aucun",
"sans") that negates no problem word. A problem word is negated by a negation that governs
it in the parse ("pas de souci": *pas* → *souci*; "il n'y a pas de retard": *retard* is the
object of the negated verb) or stands just before it; a negated problem word makes the
clause positive ("aucun problème", "on ne s'ennuie jamais"), and so do the taxonomy's
positive phrases ("rien à redire"). Scope stops at the clause: "pas de souci avec le
formateur, par contre les salles sont vétustes" complains about rooms, not the trainer.

The themes of a negative clause are those of its theme cues and of the theme words that are
not part of a cue; a theme named only inside a cue ("en *retard*" names organisation), only
after a consequence verb ("impossible de *finir les modules*") or, in the parse, only as a
modifier of another theme's word ("le wifi *de la salle*") counts only when the comment
names no other: the cause wins over what it prevented or where it happened. A negative
clause that names nothing ("…, c'est pénible") speaks of what the clause before it named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from boucle_analyzer.domain.emerging_terms import EmergingTerm, emerging_terms
from boucle_analyzer.domain.french_text import (
    AnalysedText,
    PlainAnalyser,
    TextAnalyser,
    Token,
    fold,
    stems,
    word_key,
)
from boucle_analyzer.domain.taxonomy import PHRASE_GAP, Phrase, Taxonomy, TaxonomyCatalog

__all__ = [
    "Classification",
    "Classifier",
    "EmergingTerm",
    "Taxonomy",
    "TaxonomyCatalog",
    "classify",
    "classify_analysed",
    "emerging_terms",
    "fold",
    "stems",
]

NEGATION_WINDOW = 3  # tokens before a problem word, without a parse
ADJACENT_NEGATION = 2  # tokens before it, with a parse ("pas de souci", "sans problème")
# Relations through which a negated verb negates its argument: "il n'y a pas de *retard*".
_NEGATED_ARGUMENTS = frozenset({"obj", "obl:arg"})
_NE = word_key("ne")
_STOPWORD_TEXT = (
    "le la les l un une des de du d a au aux et ou en je j il elle on nous vous ils elles "
    "me m se s te t ce c ca cet cette ces mon ma mes son sa ses est etait ete sont ai avait "
    "avons avez ont pour par sur dans avec qui que qu y ne n tres tout tous toute toutes "
    "bien plus pas sans aucun aucune mais rien"
)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(stems(_STOPWORD_TEXT))


@dataclass(frozen=True, slots=True)
class Classification:
    themes: tuple[str, ...]  # themes of the negative clauses
    mentioned: tuple[str, ...]  # every theme named, whatever the tone
    negative: bool
    stems: tuple[str, ...]  # content stems, for emerging terms


@dataclass(frozen=True, slots=True)
class _Word:
    at: int  # index of the token in the text
    token: Token
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Tone:
    negative: bool
    themes: frozenset[str]  # named by its cues or outside them
    fallback_themes: frozenset[str]  # named only inside a cue or after a consequence verb
    mentioned: frozenset[str]


def _words(taxonomy: Taxonomy, text: AnalysedText) -> list[_Word | None]:
    """One entry per token; None for punctuation (a clause boundary)."""
    words: list[_Word | None] = []
    for at, token in enumerate(text.tokens):
        if token.is_punctuation:
            words.append(None)
            continue
        keys = {word_key(token.text), word_key(token.lemma)} - {""}
        if not keys & taxonomy.known:
            keys |= taxonomy.typo_keys(token.text)
        words.append(_Word(at, token, frozenset(keys)))
    return words


def find(words: Sequence[_Word], wanted: Phrase, gap: int = PHRASE_GAP) -> list[tuple[int, ...]]:
    """Positions in ``words`` of each occurrence of the phrase, its words in order, at
    most ``gap`` words apart."""
    found = []
    for start, word in enumerate(words):
        if wanted[0] not in word.keys:
            continue
        positions = [start]
        for key in wanted[1:]:
            last = positions[-1]
            following = range(last + 1, min(len(words), last + 2 + gap))
            nxt = next((i for i in following if key in words[i].keys), None)
            if nxt is None:
                break
            positions.append(nxt)
        else:
            found.append(tuple(positions))
    return found


def _clauses(taxonomy: Taxonomy, text: AnalysedText) -> list[tuple[list[_Word], bool]]:
    """The clauses, each with whether a clause break word ("mais") opened it."""
    clauses: list[list[_Word]] = [[]]
    for word in _words(taxonomy, text):
        if word is None or (word.token.sentence_start and clauses[-1]):
            clauses.append([])
        if word is not None:
            clauses[-1].append(word)
    split: list[tuple[list[_Word], bool]] = []
    for clause in clauses:
        cuts = sorted({p[0] for b in taxonomy.clause_breaks for p in find(clause, b, gap=0)})
        # The break word opens the next clause: "sauf" is itself a cue of a complaint.
        for start, end in zip([0, *cuts], [*cuts, len(clause)], strict=True):
            if clause[start:end]:
                split.append((clause[start:end], start in cuts))
    return split


def _negators(taxonomy: Taxonomy, clause: Sequence[_Word]) -> set[int]:
    with_ne = any(_NE in w.keys for w in clause)
    return {
        i
        for i, w in enumerate(clause)
        if w.keys & taxonomy.negators
        or w.token.negation
        or (with_ne and w.keys & taxonomy.negators_after_ne)
    }


def _governs(clause: Sequence[_Word], negator: int, target: int, parsed: bool) -> bool:
    """Whether the negation at ``negator`` bears on the word at ``target``."""
    distance = target - negator
    if not parsed:
        return 0 < distance <= NEGATION_WINDOW
    if 0 < distance <= ADJACENT_NEGATION:
        return True
    head, word = clause[negator].token.head, clause[target]
    return head == word.at or (head == word.token.head and word.token.dep in _NEGATED_ARGUMENTS)


def _tone(taxonomy: Taxonomy, clause: list[_Word], parsed: bool) -> _Tone:
    masked = {i for p in taxonomy.positive_phrases for m in find(clause, p) for i in m}
    negators = _negators(taxonomy, clause) - masked
    cues: list[tuple[tuple[int, ...], str | None]] = [
        (m, None) for p in taxonomy.problems for m in find(clause, p)
    ]
    cues += [(m, slug) for slug, ps in taxonomy.cues.items() for p in ps for m in find(clause, p)]
    cues = [(m, slug) for m, slug in cues if not masked.intersection(m)]
    live, negated = [], False
    for positions, slug in cues:
        outside = negators - set(positions)
        # "pas assez", "toujours pas": a cue holding a negation is not negated again by
        # the "ne" of the same verb.
        negatable = len(outside) == len(negators)
        if negatable and any(_governs(clause, n, positions[0], parsed) for n in outside):
            negated = True  # "pas de retard", "on ne s'ennuie jamais": all is well
        else:
            live.append((positions, slug))
    in_cues = {i for positions, _ in live for i in positions}
    stray_negation = bool(negators - in_cues) and not negated and not masked
    negative = bool(live) or stray_negation
    consequence = next(
        (i for i, w in enumerate(clause) if w.keys & taxonomy.consequences), len(clause)
    )
    themes: set[str] = {slug for _, slug in live if slug is not None}
    fallback: set[str] = set()
    mentions = [
        (slug, positions)
        for slug, terms in taxonomy.themes.items()
        for term in terms
        for positions in find(clause, term)
    ]
    mentioned = {slug for slug, _ in mentions}
    for slug, positions in mentions:
        if masked.intersection(positions) or _inside_longer(positions, mentions):
            continue  # "support de *cours*" names materials, not content
        weak = (
            in_cues.intersection(positions)
            or positions[0] > consequence
            or (parsed and _modifies_mention(clause, positions, slug, mentions, negators))
        )
        (fallback if weak else themes).add(slug)
    return _Tone(
        negative=negative,
        themes=frozenset(themes) if negative else frozenset(),
        fallback_themes=frozenset(fallback - themes) if negative else frozenset(),
        mentioned=frozenset(mentioned),
    )


def _modifies_mention(
    clause: Sequence[_Word],
    positions: tuple[int, ...],
    slug: str,
    mentions: list[tuple[str, tuple[int, ...]]],
    negators: set[int],
) -> bool:
    """ "Le wifi *de la salle*", "les vidéos *du module 3*": a theme word that only
    qualifies another theme's word in the parse is circumstance, unless a negation bears on
    it ("vidéos *sans sous-titres*")."""
    word = clause[positions[0]]
    if not word.token.dep.startswith("nmod"):
        return False
    others = {clause[i].at for other, ps in mentions if other != slug for i in ps}
    negated = any(clause[n].token.head == word.at for n in negators)
    return word.token.head in others and not negated


def _inside_longer(positions: tuple[int, ...], mentions: list[tuple[str, tuple[int, ...]]]) -> bool:
    span = set(positions)
    return any(len(other) > len(positions) and span < set(other) for _, other in mentions)


def _ordered(taxonomy: Taxonomy, slugs: Iterable[str]) -> tuple[str, ...]:
    wanted = set(slugs)
    return tuple(slug for slug in taxonomy.themes if slug in wanted)


def _referred(tones: Sequence[_Tone], opened_by_break: Sequence[bool]) -> set[str]:
    """ "Mot de passe réinitialisé à chaque connexion, c'est pénible": a negative clause
    naming nothing speaks of what the clause before it named, unless a break word
    ("mais") turned the tone between them."""
    referred: set[str] = set()
    for at in range(1, len(tones)):
        tone, before = tones[at], tones[at - 1]
        if tone.negative and not tone.mentioned and not opened_by_break[at]:
            referred |= before.mentioned
    return referred


def classify_analysed(taxonomy: Taxonomy, text: str, analysed: AnalysedText) -> Classification:
    """The classification of ``text`` from what an analyser made of it."""
    clauses = _clauses(taxonomy, analysed)
    tones = [_tone(taxonomy, c, analysed.parsed) for c, _ in clauses]
    themes = {t for tone in tones for t in tone.themes}
    if not themes:
        themes = {t for tone in tones for t in tone.fallback_themes}
    if not themes:
        themes = _referred(tones, [opened for _, opened in clauses])
    stop = _stopwords()
    content = sorted({s for s in stems(text) if s not in stop and len(s) > 2})
    return Classification(
        themes=_ordered(taxonomy, themes),
        mentioned=_ordered(taxonomy, (t for tone in tones for t in tone.mentioned)),
        negative=any(tone.negative for tone in tones),
        stems=tuple(content),
    )


_PLAIN = PlainAnalyser()


def classify(taxonomy: Taxonomy, text: str, analyser: TextAnalyser = _PLAIN) -> Classification:
    """One text, through ``analyser`` (the plain fallback unless told otherwise)."""
    return classify_analysed(taxonomy, text, analyser.analyse_many([text])[0])


class Classifier:
    """Classifies comments with a network's taxonomy through one analyser.

    Built once in the composition root. Synchronous and CPU-bound with a real pipeline
    (milliseconds per comment): async callers run it in a thread.
    """

    def __init__(self, analyser: TextAnalyser, taxonomies: TaxonomyCatalog) -> None:
        self._analyser = analyser
        self._taxonomies = taxonomies

    def taxonomy(self, network_id: str) -> Taxonomy:
        return self._taxonomies.for_network(network_id)

    def classify(self, network_id: str, text: str) -> Classification:
        return self.classify_many(network_id, [text])[0]

    def classify_many(self, network_id: str, texts: Sequence[str]) -> list[Classification]:
        """Several texts of one network, through the analyser together (one batch)."""
        if not texts:
            return []
        taxonomy = self.taxonomy(network_id)
        analysed = self._analyser.analyse_many(list(texts))
        return [
            classify_analysed(taxonomy, text, a) for text, a in zip(texts, analysed, strict=True)
        ]
