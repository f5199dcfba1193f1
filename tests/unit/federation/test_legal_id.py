"""Legal identifiers: LEI check digits (ISO 17442, MOD 97-10), VAT and CRN formats."""

import pytest

from fedcarbon.federation.errors import LegalIdError
from fedcarbon.federation.legal_id import lei_check_ok, lei_with_check_digits, normalise_legal_id

# Published LEIs of real entities (GLEIF register): their check digits must verify.
REAL_LEIS = ("5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55", "7LTWFZYICNSX8D621K86")


@pytest.mark.parametrize("lei", REAL_LEIS)
def test_published_leis_pass_the_check_digits(lei: str) -> None:
    assert lei_check_ok(lei) and normalise_legal_id(f"LEI:{lei}") == f"LEI:{lei}"


@pytest.mark.parametrize("lei", REAL_LEIS)
def test_any_single_changed_check_digit_is_refused(lei: str) -> None:
    wrong = lei[:-1] + str((int(lei[-1]) + 1) % 10)
    with pytest.raises(LegalIdError, match="check digits are wrong"):
        normalise_legal_id(f"LEI:{wrong}")


def test_a_transposition_in_the_body_is_refused() -> None:
    lei = REAL_LEIS[0]
    swapped = lei[:5] + lei[6] + lei[5] + lei[7:]
    with pytest.raises(LegalIdError, match="check digits"):
        normalise_legal_id(f"LEI:{swapped}")


def test_computed_check_digits_round_trip() -> None:
    assert lei_with_check_digits(REAL_LEIS[1][:18]) == REAL_LEIS[1]


def test_lowercase_and_spaces_are_normalised() -> None:
    assert normalise_legal_id(" lei: 5493 001k jtii gc8y 1r12") == f"LEI:{REAL_LEIS[0]}"
    assert normalise_legal_id("vat:de 123.456.789") == "VAT:DE123456789"
    assert normalise_legal_id("crn:gb:0123-4567") == "CRN:GB:01234567"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("5493001KJTIIGC8Y1R12", "no scheme"),
        ("LEI:5493001KJTIIGC8Y1R1", "20 characters"),
        ("LEI:5493001KJTIIGC8Y1RAB", "20 characters"),
        ("DUNS:123456789", "unknown scheme"),
        ("VAT:123456789", "2-letter country prefix"),
        ("VAT:D", "2-letter country prefix"),
        ("VAT:ZZ123456", "not a country code"),
        ("CRN:GB", "CRN:<CC>:"),
        ("CRN:GB:" + "1" * 21, "CRN:<CC>:"),
        ("LEI:5493001KJTIIGC8Y1R12\x00", "20 characters"),
        ("VAT:DE12345678901234567890", "2-13"),
    ],
)
def test_malformed_ids_are_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(LegalIdError, match=why):
        normalise_legal_id(text)
