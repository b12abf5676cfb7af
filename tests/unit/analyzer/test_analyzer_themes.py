"""Themes of French comments: accents, inflections, negation, configuration, emerging terms.

With the pure fallback analyser (no model) unless a test builds a parse by hand; the real
French pipeline is tested in ``test_analyzer_spacy_french.py``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from boucle_analyzer.adapters.taxonomy_files import DEFAULT_TAXONOMY, load_catalog, load_taxonomy
from boucle_analyzer.domain.french_text import AnalysedText, PlainAnalyser, Token
from boucle_analyzer.domain.themes import (
    Classifier,
    Taxonomy,
    classify,
    classify_analysed,
    emerging_terms,
    fold,
    stems,
)

pytestmark = pytest.mark.unit
TAXONOMY = load_taxonomy(DEFAULT_TAXONOMY)


def _themes(text: str) -> tuple[str, ...]:
    return classify(TAXONOMY, text).themes


def test_fold_strips_accents_and_case() -> None:
    assert fold("Accès à la PLATEFORME, déçu") == "acces a la plateforme, decu"


def test_accents_and_inflections_meet_on_the_same_stem() -> None:
    assert stems("connexions") == stems("Connexion") == stems("connéxion")
    assert stems("formateurs") == stems("formateur")
    assert stems("vidéos") == stems("video")


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        ("La plateforme ne fonctionne pas", ("platform",)),
        ("Impossible de se connecter depuis lundi", ("platform",)),
        ("Les identifiants ne marchaient pas", ("platform",)),
        ("connexions très lentes", ("platform",)),
        ("Je n'ai pas pu accéder aux vidéos", ("platform",)),
        ("IMPOSSIBLE DE SE CONNECTER A LA PLATEFORME", ("platform",)),
        ("Salle trop froide et planning désorganisé", ("organisation",)),
        ("Les supports n'étaient pas adaptés", ("materials",)),
        ("Accès PMR inexistant, pas d'ascenseur", ("accessibility",)),
        ("Dossier CPF bloqué depuis un mois", ("administration",)),
    ],
)
def test_complaints_get_their_theme(text: str, themes: tuple[str, ...]) -> None:
    assert _themes(text) == themes


@pytest.mark.parametrize(
    "text",
    [
        "Pas de problème de connexion, tout était clair.",
        "Aucun souci avec la plateforme",
        "Formatrice très claire et à l'écoute",
        "Connexion sans problème",
        "La plateforme fonctionne bien",
    ],
)
def test_negated_problems_and_praise_are_not_complaints(text: str) -> None:
    assert _themes(text) == ()
    assert not classify(TAXONOMY, text).negative


def test_each_clause_has_its_own_tone() -> None:
    found = classify(TAXONOMY, "Aucun problème avec le formateur, mais les salles sont froides")

    assert found.themes == ("organisation",)
    assert set(found.mentioned) == {"trainer", "organisation"}


def test_mixed_comment_names_only_the_negative_theme() -> None:
    text = "Le formateur était super mais la connexion coupait sans cesse"

    assert _themes(text) == ("platform",)


def test_stems_are_kept_without_stop_words() -> None:
    found = classify(TAXONOMY, "La plateforme ne fonctionne pas")

    assert found.stems == tuple(sorted(set(stems("plateforme fonctionne"))))


def test_a_network_taxonomy_overrides_the_default(tmp_path: Path) -> None:
    config = json.loads(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    config["themes"]["catering"] = {"label": "Restauration", "terms": ["cantine", "repas"]}
    (tmp_path / "reseau-gourmand.json").write_text(json.dumps(config), encoding="utf-8")

    catalog = load_catalog(None, tmp_path)

    text = "La cantine était froide"
    assert "catering" in classify(catalog.for_network("reseau-gourmand"), text).themes
    assert "catering" not in classify(catalog.for_network("reseau-horizon"), text).themes


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "'themes' must be a non-empty object"),
        ({"themes": {"Bad Slug": {"terms": ["x"]}}}, "is not a slug"),
        ({"themes": {"empty": {"terms": []}}}, "has no terms"),
    ],
)
def test_a_bad_taxonomy_is_refused_with_the_reason(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Taxonomy.from_config(config)


def test_a_stem_that_took_off_emerges_and_a_steady_one_does_not() -> None:
    baseline = Counter({"connexion": 4, "formateur": 30, "salle": 10})
    current = Counter({"connexion": 25, "formateur": 10, "salle": 3})

    found = emerging_terms(current, 100, baseline, 300)

    assert [t.stem for t in found] == ["connexion"]
    assert found[0].current == 25
    assert found[0].ratio > 5
    assert found[0].adjusted_p_value < 0.05


def test_rare_stems_are_not_reported() -> None:
    assert emerging_terms(Counter({"bug": 3}), 10, Counter(), 300, min_count=5) == []


# --- Issue 13: cues, positive phrases, clause scope, typos (the pure fallback analyser) ----


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        ("pas de souci avec le formateur, par contre les salles sont vétustes", ("organisation",)),
        ("La plateforme se déconnecte sans arrêt, impossible de finir les modules", ("platform",)),
        ("Connexion très instable sur la plateforme e-learning", ("platform",)),
        ("Le formateur ne répondait jamais à nos questions.", ("trainer",)),
        ("Le formateur est arrivé en retard", ("trainer",)),
        ("Formation annulée la veille", ("organisation",)),
        ("Mot de passe réinitialisé à chaque connexion, c'est pénible.", ("platform",)),
        ("Pas assez de pauses", ("organisation",)),
        ("Le remboursement OPCO n'est toujours pas arrivé.", ("administration",)),
        ("Supports de cours remplis de fautes", ("materials",)),
    ],
)
def test_cues_negations_and_causes_name_the_right_theme(text: str, themes: tuple[str, ...]) -> None:
    found = classify(TAXONOMY, text)

    assert found.negative
    assert found.themes == themes


@pytest.mark.parametrize(
    "text",
    [
        "Rien à redire sur la formatrice.",
        "RAS",
        "Animatrice dynamique, on ne s'ennuie jamais.",
        "Il n'y a pas de retard",
        "C'était trop bien !",
        "Le formateur a été parfait, je ne regrette pas.",
    ],
)
def test_positive_phrases_and_negated_problems_are_not_complaints(text: str) -> None:
    assert not classify(TAXONOMY, text).negative


def test_a_clause_of_praise_keeps_its_theme_out_of_the_complaint() -> None:
    text = "pas de souci avec le formateur, par contre les salles sont vétustes"

    found = classify(TAXONOMY, text)

    assert found.themes == ("organisation",)
    assert set(found.mentioned) == {"trainer", "organisation"}


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("La platefrome plante sans arrêt", "platform"),
        ("Le fomateur ne répond pas", "trainer"),
        ("Orgnisation chaotique", "organisation"),
        ("les suports etaient illisibles", "materials"),
    ],
)
def test_a_theme_word_one_typo_away_still_names_its_theme(text: str, theme: str) -> None:
    assert classify(TAXONOMY, text).themes == (theme,)


def test_a_real_word_near_a_theme_word_is_not_taken_for_a_typo() -> None:
    # "intérêt" is one edit from "internet" (platform): listed in not_typos.
    assert classify(TAXONOMY, "Exercices sans intérêt").themes == ("content",)


def test_a_version_1_taxonomy_still_loads_and_classifies() -> None:
    config = {
        "version": 1,
        "themes": {"platform": {"label": "Plateforme", "terms": ["plateforme"]}},
        "problem_terms": ["panne"],
        "positive_terms": ["fonctionner"],
        "negators": ["pas", "plus"],
        "clause_breaks": ["mais"],
    }

    taxonomy = Taxonomy.from_config(config)

    assert classify(taxonomy, "La plateforme est en panne").themes == ("platform",)
    assert classify(taxonomy, "La plateforme ne fonctionne pas").themes == ("platform",)
    assert not classify(taxonomy, "La plateforme fonctionne").negative


def test_the_classifier_uses_each_network_taxonomy_and_classifies_batches(tmp_path: Path) -> None:
    config = json.loads(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    config["themes"]["catering"] = {"label": "Restauration", "terms": ["cantine"]}
    (tmp_path / "reseau-gourmand.json").write_text(json.dumps(config), encoding="utf-8")
    classifier = Classifier(PlainAnalyser(), load_catalog(None, tmp_path))
    texts = ["La cantine était froide", "Tout était parfait"]

    gourmand = classifier.classify_many("reseau-gourmand", texts)
    horizon = classifier.classify_many("reseau-horizon", texts)

    assert [c.themes for c in gourmand] == [("catering",), ()]
    assert horizon[0].themes == ()
    assert horizon[0].negative
    assert classifier.classify("reseau-gourmand", texts[0]) == gourmand[0]
    assert classifier.classify_many("reseau-gourmand", []) == []
    assert "catering" in classifier.taxonomy("reseau-gourmand").themes


def _parsed(words: list[tuple[str, str, int, str]]) -> AnalysedText:
    return AnalysedText(
        tokens=tuple(
            Token(text=t, lemma=lemma, head=head, dep=dep, sentence_start=i == 0)
            for i, (t, lemma, head, dep) in enumerate(words)
        ),
        parsed=True,
    )


def test_with_a_parse_a_negation_reaches_only_the_words_it_governs() -> None:
    # "Le formateur n'a pas su résoudre le problème de connexion": *pas* negates "su",
    # not "problème", the object of "résoudre" (a window of 3 words would not tell).
    text = "Le formateur n'a pas su résoudre le problème de connexion"
    analysed = _parsed(
        [
            ("Le", "le", 1, "det"),
            ("formateur", "formateur", 5, "nsubj"),
            ("n'", "ne", 5, "advmod"),
            ("a", "avoir", 5, "aux:tense"),
            ("pas", "pas", 5, "advmod"),
            ("su", "savoir", 5, "ROOT"),
            ("résoudre", "résoudre", 5, "xcomp"),
            ("le", "le", 8, "det"),
            ("problème", "problème", 6, "obj"),
            ("de", "de", 10, "case"),
            ("connexion", "connexion", 8, "nmod"),
        ]
    )

    found = classify_analysed(TAXONOMY, text, analysed)

    assert found.negative
    assert found.themes == ("platform", "trainer")


def test_with_a_parse_a_theme_word_qualifying_another_is_circumstance() -> None:
    # "Les vidéos du module sont en panne": the module only says which videos.
    text = "Les vidéos du module sont en panne"
    analysed = _parsed(
        [
            ("Les", "le", 1, "det"),
            ("vidéos", "vidéo", 6, "nsubj"),
            ("du", "de", 3, "case"),
            ("module", "module", 1, "nmod"),
            ("sont", "être", 6, "cop"),
            ("en", "en", 6, "case"),
            ("panne", "panne", 6, "ROOT"),
        ]
    )

    assert classify_analysed(TAXONOMY, text, analysed).themes == ("platform",)
    assert classify(TAXONOMY, text).themes == ("platform", "content")  # no parse: both
