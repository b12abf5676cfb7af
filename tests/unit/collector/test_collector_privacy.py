"""Redaction of contacts in free text (French formats) and keyed pseudonyms."""

from __future__ import annotations

import pytest

from boucle_collector.domain.privacy import EMAIL_MASK, PHONE_MASK, Pseudonymiser, redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "01 23 45 67 89",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_are_masked(phone: str) -> None:
    assert redact(f"Appelez-moi au {phone} demain.") == f"Appelez-moi au {PHONE_MASK} demain."


@pytest.mark.parametrize(
    "email",
    ["prénom.nom@exemple.fr", "jean-marc.o'neil+formation@mail.exemple.co.uk", "A.B@Ex-ample.FR"],
)
def test_email_addresses_are_masked(email: str) -> None:
    assert redact(f"Contact : {email}, merci") == f"Contact : {EMAIL_MASK}, merci"


@pytest.mark.parametrize(
    "text",
    [
        "Note 4/5, session du 12/03/2025, salle 204, 35 heures, code NAF 85.59A",
        "Formation de 2024 à 2025 : 12 34 apprenants",
        "Prix 1 200,50 €, SIRET 123 456 789 00012",
    ],
)
def test_ordinary_numbers_dates_and_ids_are_kept(text: str) -> None:
    assert redact(text) == text


def test_several_contacts_in_one_text_are_all_masked() -> None:
    text = "Marie (marie@exemple.fr, 07 01 02 03 04) et Paul (+33 7 98 76 54 32)"

    assert redact(text) == f"Marie ({EMAIL_MASK}, {PHONE_MASK}) et Paul ({PHONE_MASK})"


def test_a_pseudonym_is_stable_normalised_and_keyed() -> None:
    one = Pseudonymiser(b"0123456789abcdef-secret-one")
    two = Pseudonymiser(b"0123456789abcdef-secret-two")

    ref = one.pseudonym("Marie.Dupont@Exemple.fr")

    assert ref == one.pseudonym("  marie.dupont@exemple.fr ")
    assert ref != two.pseudonym("marie.dupont@exemple.fr")
    assert ref != one.pseudonym("paul.martin@exemple.fr")
    assert ref.startswith("p-")
    assert len(ref) == 34
    assert "marie" not in ref


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymiser(b"short")
