"""Legal identifiers of member organisations: one legal entity counts once towards k.

Three forms are accepted, always with a scheme prefix so that two schemes never collide:

- ``LEI:<20 characters>``: ISO 17442 Legal Entity Identifier; characters 1-18 alphanumeric,
  19-20 check digits by ISO/IEC 7064 MOD 97-10 (letters A=10 ... Z=35; the whole number
  modulo 97 must be 1, as for IBANs);
- ``VAT:<CC><number>``: a VAT registration number with its two-letter prefix (EU VIES
  prefixes, so Greece is ``EL`` and Northern Ireland ``XI``; also GB, CH, NO ...);
- ``CRN:<CC>:<number>``: a company registration number in country CC's register.

Only the format is checked here (and the LEI's check digits); that the identifier belongs to
the organisation is what an attestation by a trustee or registrar says.
"""

import re

from fedcarbon.federation.errors import LegalIdError

_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
_VAT = re.compile(r"^([A-Z]{2})([A-Z0-9]{2,13})$")
_CRN = re.compile(r"^([A-Z]{2}):([A-Z0-9]{1,20})$")
# ISO 3166-1 alpha-2 codes are two letters; VAT prefixes add EL (Greece) and XI (Northern
# Ireland). A format check: the registrar's attestation is what vouches for the entity.
_NOT_COUNTRIES = {"AA", "QM", "QZ", "XA", "XZ", "ZZ"}


def lei_check_ok(lei: str) -> bool:
    """ISO 17442 check digits: the LEI read as a base-36-expanded number is 1 modulo 97."""
    digits = "".join(str(int(char, 36)) for char in lei)
    return int(digits) % 97 == 1


def lei_with_check_digits(base18: str) -> str:
    """The LEI for an 18-character prefix: check digits = 98 - (prefix || "00" mod 97)."""
    if not re.fullmatch(r"[A-Z0-9]{18}", base18):
        raise LegalIdError(f"LEI prefix {base18!r} must be 18 characters A-Z, 0-9")
    remainder = int("".join(str(int(char, 36)) for char in base18 + "00")) % 97
    return f"{base18}{98 - remainder:02d}"


def _country(code: str, text: str) -> None:
    if code in _NOT_COUNTRIES:
        raise LegalIdError(f"legal id {text!r}: {code!r} is not a country code")


def normalise_legal_id(text: str) -> str:
    """The canonical form (upper case, no spaces, dots or dashes in the number) or an error.

    Raises LegalIdError naming what is wrong: the scheme, the length, the check digits.
    """
    if not isinstance(text, str) or not text.strip():
        raise LegalIdError("legal id is empty; use LEI:..., VAT:<CC>... or CRN:<CC>:...")
    scheme, sep, rest = text.strip().partition(":")
    scheme = scheme.upper()
    if not sep:
        raise LegalIdError(
            f"legal id {text!r} has no scheme; use LEI:<20 chars>, VAT:<CC><number> "
            "or CRN:<CC>:<number>"
        )
    compact = re.sub(r"[\s.\-/]", "", rest).upper()
    if scheme == "LEI":
        if not _LEI.match(compact):
            raise LegalIdError(
                f"legal id {text!r}: an LEI is 20 characters, 18 letters or digits and 2 "
                "check digits (ISO 17442)"
            )
        if not lei_check_ok(compact):
            raise LegalIdError(
                f"legal id {text!r}: the LEI check digits are wrong (ISO 17442, MOD 97-10)"
            )
        return f"LEI:{compact}"
    if scheme == "VAT":
        match = _VAT.match(compact)
        if not match:
            raise LegalIdError(
                f"legal id {text!r}: a VAT number is a 2-letter country prefix and 2-13 "
                "letters or digits, e.g. VAT:DE123456789"
            )
        _country(match.group(1), text)
        return f"VAT:{compact}"
    if scheme == "CRN":
        match = _CRN.match(compact)
        if not match:
            raise LegalIdError(
                f"legal id {text!r}: a company number is CRN:<CC>:<1-20 letters or digits>, "
                "e.g. CRN:GB:01234567"
            )
        _country(match.group(1), text)
        return f"CRN:{compact}"
    raise LegalIdError(f"legal id {text!r}: unknown scheme {scheme!r}; use LEI, VAT or CRN")
