"""Person names in French free text: found, then replaced by a keyed token. Pure Python.

Three sources of spans, merged:

* a :class:`NameDetector` (the NER model, an adapter; optional: without it the rules below
  still run);
* the people the platform named for this response (:class:`KnownPersons`: the respondent's
  name fields and e-mail): exact matches of the first name, last name or full name, whatever
  the case and accents ("Hélène", "helene", "HELENE");
* a cheap rule: a civility or a role followed by a capitalised word ("Mme Durand",
  "Monsieur Karim Benali", "la formatrice Sophie", "merci à Julien").

Each name found becomes ``[nom p-<10 hex>]``, a keyed pseudonym of the name as written
(accents, case and spacing folded), when a :class:`Pseudonymiser` is configured, and
``[nom masqué]`` otherwise. Why a keyed token rather than one constant mask: the same person
named in twelve complaints of one site then shows as the same token twelve times, which is
what continuous improvement has to notice ("the complaints are about one person"), without
saying who; the key is the collector's alone, so nobody downstream can test a guessed name;
and a data subject's erasure can find their mentions by computing the token of their name.
The token is derived under its own label, so it never equals a ``respondent_ref``.
E-mail addresses and phone numbers are masked first (:func:`privacy.redact`), so that a
name inside an address is not half-replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol, runtime_checkable

from boucle_collector.domain.privacy import Pseudonymiser, redact

NAME_MASK = "[nom masqué]"
# What a redaction already put in a text: never taken for a name by a second pass.
_MASKS = re.compile(r"\[(?:nom|email|téléphone) [^\[\]]{1,20}\]")
TOKEN_HEX = 10  # 40 bits: collisions negligible among a network's names, short in a comment


class NameSpan(NamedTuple):
    """``text[start:end]`` is a person's name (without civility: "Durand" in "Mme Durand")."""

    start: int
    end: int


class NameDetector(Protocol):
    """Finds person names in one text (an NER model behind an adapter)."""

    def person_names(self, text: str) -> Sequence[NameSpan]: ...


@runtime_checkable
class BatchNameDetector(NameDetector, Protocol):
    """A detector that is cheaper on several texts at once (``nlp.pipe``)."""

    def person_names_many(self, texts: Sequence[str]) -> Sequence[Sequence[NameSpan]]: ...


@dataclass(frozen=True, slots=True)
class _Found:
    """The detector's answer for one text, computed beforehand in a batch."""

    spans: Sequence[NameSpan]

    def person_names(self, text: str) -> Sequence[NameSpan]:
        return self.spans


def fold(text: str) -> str:
    """Accents removed, case folded: "Hélène" and "HELENE" compare equal."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _folded_words(words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words.split())


# Words that announce a name rather than being one ("Merci Julien", "la formatrice Sophie",
# "Mme Durand"): the model often puts them inside the entity; they are cut off.
CUE_WORDS = _folded_words(
    """
    merci bravo bonjour bonsoir salut cordialement felicitations remerciements
    madame monsieur mademoiselle mesdames messieurs mme mmes mlle m mr dr docteur maitre
    formateur formatrice formateurs formatrices intervenant intervenante animateur animatrice
    tuteur tutrice referent referente coach professeur prof stagiaire stagiaires apprenant
    apprenante apprenants collegue collegues conseiller conseillere
    """
)
# Software, platforms and bodies that comments talk about: an entity holding one is a
# product or an organisation ("Formation Excel", "Google Meet", "OPCO Atlas"), not a person.
BRANDS = _folded_words(
    """
    excel word powerpoint outlook access python java sql moodle teams zoom meet skype
    webex discord slack whatsapp google microsoft office linkedin youtube canva notion kahoot
    sap sage power bi qualiopi opco atlas akto constructys ocapiat uniformation afdas cpf
    caces sst ssiap rgpd pole emploi francetravail urssaf datadock edof kairos digiforma
    afpa cci cma greta cnam
    """
)
# Everyday words of training feedback that a comment may start with, capitalised ("Salle
# trop froide", "Bonne formation"): an entity starting with one is a noun phrase, not a name.
COMMON_WORDS = _folded_words(
    """
    responsable directeur directrice equipe service accueil secretariat administration
    direction formation formations module modules session sessions stage stages cours atelier
    ateliers salle salles locaux site centre campus lycee college ecole universite
    batiment amphi rue avenue boulevard place quai allee impasse chemin route gare
    trajet transport parking habilitation management gestes postures prise parole
    organisation contenu contenus pedagogie support supports groupe programme examen examens
    evaluation evaluations certification certificat dossier plateforme reclamation plainte
    bonne bon excellent excellente parfait parfaite dommage bravo super top nul rien
    le la les l un une des de du d et ou mais donc car ni au aux en a il elle ils elles on
    nous vous je tu ce cette ces mon ma mes ton ta tes son sa ses notre nos votre vos leur
    tres trop bien tout tous toute toutes pas plus moins aussi encore
    beaucoup infiniment enormement vraiment pour van von di da del dos rh drh travail
    chacun chacune eux lui toi moi mille fois france
    ok oui non lundi mardi mercredi jeudi vendredi samedi dimanche janvier fevrier mars
    avril mai juin juillet aout septembre octobre novembre decembre
    """
)
# Capitalised words that are not names, in folded form: the rule stops at them and the
# model's entities made only of them are dropped.
NOT_NAMES = CUE_WORDS | BRANDS | COMMON_WORDS
# Before a name, these make it the name of a place: "salle Victor Hugo", "12 avenue Jean
# Jaurès", "lycée Jean Moulin".
_PLACE_BEFORE = re.compile(
    r"(?i:\b(?:salle|rue|avenue|av\.|boulevard|bd|quai|allée|impasse|chemin|route|square"
    r"|lycée|collège|école|université|campus|centre|bâtiment|amphi"
    r"|amphithéâtre|résidence|stade|gare|hôpital|clinique|institut|fondation|parc)"
    r"\s+(?:(?:de\s+la|du|des|de|d')\s*)?)$"
)


# Names that are also everyday words ("un grand merci", "la salle rose"): a known person
# called Grand or Rose is matched only where the word is capitalised.
COMMON_WORD_NAMES = _folded_words(
    """
    pierre rose olive marin grand petit blanc noir brun roux fort bon juste vrai blanche
    claire aime prudence constance patience france jardin chevalier berger boucher meunier
    marchand
    """
)

# Mailboxes of a service, not of a person: "formation@…", "contact.lyon@…".
_GENERIC_MAILBOX = _folded_words(
    """
    contact info infos formation formations accueil admin administration secretariat
    service direction rh drh support noreply no-reply ne-pas-repondre inscription
    inscriptions qualite qualiopi stage stages scolarite compta comptabilite lyon paris
    """
)

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_CAPITALISED = rf"[{_UPPER}](?:[{_LOWER}]+|[{_UPPER}]+)(?:[-'][{_UPPER}][{_LOWER}{_UPPER}]+)*"
_INITIAL = rf"[{_UPPER}]\."
# One or two capitalised words (first name, last name) or an initial and a last name.
_NAME = rf"(?:{_INITIAL} ?)?{_CAPITALISED}(?:[ \t]+{_CAPITALISED}|[ \t]+{_INITIAL})?"
_CIVILITY = (
    r"(?:\b(?:M\.|MM\.|Mr\.?|Mme|Mmes|Mlle|Mlles|Madame|Mesdames|Monsieur|Messieurs"
    r"|Mademoiselle|Dr\.?|Docteur|Maître)\s+(?:et\s+(?:M\.|Mme|Madame|Monsieur)\s+)?)"
)
_ROLE = (
    r"(?i:\b(?:formateur|formatrice|intervenant|intervenante|animateur|animatrice|tuteur"
    r"|tutrice|coach|prof|professeur|professeure|collègue|stagiaire|apprenant|apprenante"
    r"|référent|référente|conseiller|conseillère)s?\s+"
    r"|\b(?:merci|bravo|remerciements?)\s+(?:à\s+|a\s+)?"
    r"|\b(?:avec|par|grâce\s+à|auprès\s+de|de\s+la\s+part\s+de|selon)\s+)"
)
_CUED_NAME = re.compile(rf"(?:{_CIVILITY}|{_ROLE})(?P<name>{_NAME})")
# "mme durand", "merci à julien": there a lowercase word is a name all the same ("m." not
# after a number: "5 m. plus loin").
_LOWERCASE_NAME = re.compile(
    r"(?:(?<!\d)(?<!\d\s)\b(?:[Mm]\.|[Mm]me|[Mm]lle)\s+|(?i:\bmerci\s+à\s+))"
    rf"(?P<name>[{_LOWER}]+(?:-[{_LOWER}]+)*)(?![\w'’])"
)


@dataclass(frozen=True, slots=True)
class KnownPersons:
    """Names the platform gave for this response: matched wherever they appear in its text.

    ``names`` holds full names and their parts ("Jean-Pierre Durand", "Jean-Pierre",
    "Durand"); :meth:`from_fields` derives them from name fields and e-mail addresses.
    """

    names: tuple[str, ...] = ()

    @classmethod
    def from_fields(
        cls, *, names: Iterable[str | None] = (), emails: Iterable[str | None] = ()
    ) -> KnownPersons:
        found: list[str] = []
        for name in names:
            if name and name.strip():
                found.append(" ".join(name.split()))
                found.extend(name.split())  # first and last name alone
        for email in emails:
            found.extend(_names_in_address(email or ""))
        # "de la Fontaine": the particles alone would mask every "de" and "la" of the text
        kept = [
            n
            for n in dict.fromkeys(found)
            if sum(c.isalpha() for c in n) >= 2 and fold(n) not in NOT_NAMES
        ]
        return cls(tuple(kept))

    def __bool__(self) -> bool:
        return bool(self.names)


NOBODY = KnownPersons()


def _names_in_address(email: str) -> list[str]:
    """ "jean-pierre.durand@…" → the full name and its parts; nothing for "contact@…"."""
    local = email.partition("@")[0].casefold()
    parts = [p.rstrip("0123456789") for p in re.split(r"[._]+", local)]
    if len(parts) < 2 or any(not re.fullmatch(r"[^\W\d_]+(?:-[^\W\d_]+)*", p) for p in parts):
        return []  # "jdurand", "durand75" alone: no telling where a name starts
    if any(fold(p) in _GENERIC_MAILBOX for p in parts):
        return []
    return [" ".join(parts), *[p for p in parts if len(p) >= 3]]


@lru_cache(maxsize=4096)
def _known_pattern(name: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s\-'’.]+", fold(name)) if p]
    return re.compile(r"(?<!\w)" + r"[\s\-'’]+".join(parts) + r"(?!\w)")


class _Folded:
    """A text folded character by character, with the way back to original offsets."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        origin: list[int] = []
        for i, char in enumerate(text):
            for folded in fold(char):
                chars.append(folded)
                origin.append(i)
        origin.append(len(text))
        self.text = "".join(chars)
        self._original = text
        self._origin = origin

    def span(self, start: int, end: int) -> NameSpan:
        last = self._origin[end - 1] + 1
        # an accent typed as a separate combining mark (macOS input) belongs to the name
        while last < len(self._original) and unicodedata.combining(self._original[last]):
            last += 1
        return NameSpan(self._origin[start], last)


def known_name_spans(text: str, known: KnownPersons) -> list[NameSpan]:
    """Where the known persons' names appear, whatever the case and accents."""
    if not known:
        return []
    folded = _Folded(text)
    spans: list[NameSpan] = []
    for name in known.names:
        common = fold(name) in COMMON_WORD_NAMES
        for match in _known_pattern(name).finditer(folded.text):
            span = folded.span(match.start(), match.end())
            if common and not text[span.start].isupper():
                continue  # "un grand merci" is not Mr Grand
            spans.append(span)
    return spans


def cued_name_spans(text: str) -> list[NameSpan]:
    """Names after a civility or a role: "Mme Durand", "la formatrice Sophie", "merci à Karim"."""
    spans: list[NameSpan] = []
    lower = text.lower()
    # The lowercase pattern's lookbehinds cost ~40 µs a comment: skipped when none of its
    # cues is there (most texts; a file import maps thousands of rows).
    lowercase_cue = any(cue in lower for cue in ("m.", "mme", "mlle", "merci"))
    for pattern in (_CUED_NAME, _LOWERCASE_NAME) if lowercase_cue else (_CUED_NAME,):
        for match in pattern.finditer(text):
            span = _without_common_words(text, NameSpan(*match.span("name")))
            if span is not None:
                spans.append(span)
    return spans


def _without_common_words(text: str, span: NameSpan) -> NameSpan | None:
    """The span cut before its first word that is not a name ("Julien Excel" → "Julien")."""
    words = list(re.finditer(r"[^\s]+", text[span.start : span.end]))
    kept = []
    for word in words:
        if fold(word.group().strip(".'")) in NOT_NAMES:
            break
        kept.append(word)
    if not kept:
        return None
    return NameSpan(span.start, span.start + kept[-1].end())


def merged(spans: Iterable[NameSpan], text: str = "") -> list[NameSpan]:
    """Overlapping spans as one, in text order ("Karim" inside "Karim Benali"); with the
    text, spans only a space apart too ("BELKACEM" and "Yasmine": one name, one token)."""
    result: list[NameSpan] = []
    for span in sorted(spans):
        touching = result and (
            span.start < result[-1].end
            or (text and not text[result[-1].end : span.start].strip(" \t"))
        )
        if touching:
            last = result.pop()
            result.append(NameSpan(last.start, max(last.end, span.end)))
        else:
            result.append(span)
    return result


def find_person_names(
    text: str,
    *,
    detector: NameDetector | None = None,
    known: KnownPersons = NOBODY,
    rules: bool = True,
) -> list[NameSpan]:
    """Every person name of ``text``: the detector's, the known persons', the rule's, merged.

    The detector's names right after a place noun are the names of places ("salle Victor
    Hugo", "avenue Jean Jaurès") and are left alone.
    """
    found = detector.person_names(text) if detector is not None else ()
    spans = [s for s in found if not _PLACE_BEFORE.search(text[max(0, s.start - 40) : s.start])]
    spans += known_name_spans(text, known)
    if rules:
        spans += cued_name_spans(text)
    masks = [NameSpan(*m.span()) for m in _MASKS.finditer(text)]
    return merged((s for s in spans if s.end > s.start and not _overlaps_any(s, masks)), text)


def _overlaps_any(span: NameSpan, others: Sequence[NameSpan]) -> bool:
    return any(o.start < span.end and span.start < o.end for o in others)


def name_token(name: str, pseudonymiser: Pseudonymiser | None) -> str:
    """``[nom p-…]``, the same for one name however written; ``[nom masqué]`` without a key."""
    if pseudonymiser is None:
        return NAME_MASK
    words = re.split(r"[\s\-'’]+", fold(name))
    reference = pseudonymiser.pseudonym("person-name-in-text|" + " ".join(w for w in words if w))
    return f"[nom {reference[: 2 + TOKEN_HEX]}]"


def replace_names(text: str, spans: Sequence[NameSpan], pseudonymiser: Pseudonymiser | None) -> str:
    """``text`` with each span replaced by its name token (spans: merged, in order)."""
    pieces: list[str] = []
    cursor = 0
    for span in spans:
        pieces += [
            text[cursor : span.start],
            name_token(text[span.start : span.end], pseudonymiser),
        ]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_personal_data(
    text: str,
    *,
    detector: NameDetector | None = None,
    known: KnownPersons = NOBODY,
    pseudonymiser: Pseudonymiser | None = None,
) -> str:
    """``text`` with e-mails, phone numbers and person names masked.

    Contacts first (``redact``), so that names are looked for in the text as published and
    a name inside an address does not leave the rest of the address behind.
    """
    contacts_masked = redact(text)
    spans = find_person_names(contacts_masked, detector=detector, known=known)
    return replace_names(contacts_masked, spans, pseudonymiser)


@dataclass(frozen=True, slots=True)
class FreeTextRedactor:
    """Contacts and names masked in one free text: built once at startup, passed to the
    intake (``IntakeKind.redact``) and the response mapping in place of ``redact``.

    Synchronous and CPU-bound with a model detector (~4 ms a text): call it off the event
    loop (``asyncio.to_thread``). Without a detector it is the rule and the known persons
    only, a few microseconds.
    """

    detector: NameDetector | None = None
    pseudonymiser: Pseudonymiser | None = None

    @property
    def uses_model(self) -> bool:
        """True when a detector runs: then the redaction costs milliseconds a text."""
        return self.detector is not None

    def __call__(self, text: str, known: KnownPersons = NOBODY) -> str:
        return redact_personal_data(
            text, detector=self.detector, known=known, pseudonymiser=self.pseudonymiser
        )

    def many(self, texts: Sequence[str], known: KnownPersons = NOBODY) -> list[str]:
        """Each text redacted; a batch detector sees them all in one call (``nlp.pipe``)."""
        if not isinstance(self.detector, BatchNameDetector) or len(texts) < 2:
            return [self(text, known) for text in texts]
        contacts_masked = [redact(text) for text in texts]
        found = self.detector.person_names_many(contacts_masked)
        return [
            replace_names(
                text,
                find_person_names(text, detector=_Found(spans), known=known),
                self.pseudonymiser,
            )
            for text, spans in zip(contacts_masked, found, strict=True)
        ]

    def without_model(self) -> FreeTextRedactor:
        """The same keyed tokens, rule and known persons only (cheap: on the event loop)."""
        return FreeTextRedactor(pseudonymiser=self.pseudonymiser)
