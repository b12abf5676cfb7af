"""Themes of French comments: accents, inflections, negation, configuration, emerging terms."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from boucle_analyzer.adapters.taxonomy_files import DEFAULT_TAXONOMY, load_catalog, load_taxonomy
from boucle_analyzer.domain.themes import Taxonomy, classify, emerging_terms, fold, stems

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
