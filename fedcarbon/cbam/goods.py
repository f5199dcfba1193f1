"""CBAM goods: sector of a CN code (Regulation (EU) 2023/956, Annex I), which emissions count
(Annex II), and which origins carry no embedded emissions (Article 2(4) and Annex III).

- Annex I lists the goods by CN code per sector: cement (2507 00 80, 2523 ...), electricity
  (2716 00 00), fertilisers (2808 00 00, 2814, 2834 21 00, 3102, 3105 ...), iron and steel
  (2601 12 00, chapter 72, 7301-7311, 7318, 7326), aluminium (7601-7616), hydrogen (2804 10 00).
- Annex II lists the goods for which only direct emissions are taken into account: iron and
  steel, aluminium and hydrogen. Cement and fertilisers carry direct plus indirect emissions;
  electricity is the good itself (its embedded emissions are the generation emissions).
- Annex III: countries and territories outside the scope (Iceland, Liechtenstein, Norway,
  Switzerland; Büsingen, Heligoland, Livigno, Ceuta, Melilla). Goods from the Union or from
  these places carry no CBAM obligation, so as precursors they enter at zero embedded emissions
  (Implementing Regulation (EU) 2025/2547, Article 14 reads precursors with the same rule).
"""

from enum import StrEnum

from fedcarbon.cbam.errors import CbamError


class Sector(StrEnum):
    """Aggregated sectors of Annex I; the names match the mark-up schedule's product groups."""

    CEMENT = "Cement"
    ELECTRICITY = "Electricity"
    FERTILISERS = "Fertilisers"
    IRON_AND_STEEL = "Iron and steel"
    ALUMINIUM = "Aluminium"
    HYDROGEN = "Hydrogen"


# (CN prefix, sector), longest prefix wins. Annex I of Regulation (EU) 2023/956 as amended.
_CN_PREFIXES: tuple[tuple[str, Sector], ...] = (
    ("25070080", Sector.CEMENT),
    ("2523", Sector.CEMENT),
    ("271600", Sector.ELECTRICITY),
    ("280410", Sector.HYDROGEN),
    ("2808", Sector.FERTILISERS),
    ("2814", Sector.FERTILISERS),
    ("283421", Sector.FERTILISERS),
    ("3102", Sector.FERTILISERS),
    ("3105", Sector.FERTILISERS),
    ("260112", Sector.IRON_AND_STEEL),
    ("72", Sector.IRON_AND_STEEL),
    ("7301", Sector.IRON_AND_STEEL),
    ("7302", Sector.IRON_AND_STEEL),
    ("7303", Sector.IRON_AND_STEEL),
    ("7304", Sector.IRON_AND_STEEL),
    ("7305", Sector.IRON_AND_STEEL),
    ("7306", Sector.IRON_AND_STEEL),
    ("7307", Sector.IRON_AND_STEEL),
    ("7308", Sector.IRON_AND_STEEL),
    ("7309", Sector.IRON_AND_STEEL),
    ("7310", Sector.IRON_AND_STEEL),
    ("7311", Sector.IRON_AND_STEEL),
    ("7318", Sector.IRON_AND_STEEL),
    ("7326", Sector.IRON_AND_STEEL),
    *((f"76{n:02d}", Sector.ALUMINIUM) for n in range(1, 17)),
)

DIRECT_ONLY_SECTORS = frozenset(
    {Sector.IRON_AND_STEEL, Sector.ALUMINIUM, Sector.HYDROGEN, Sector.ELECTRICITY}
)
"""Annex II of Regulation (EU) 2023/956: only direct emissions count for these goods."""

DE_MINIMIS_SECTORS = frozenset(
    {Sector.IRON_AND_STEEL, Sector.ALUMINIUM, Sector.FERTILISERS, Sector.CEMENT}
)
"""Regulation (EU) 2025/2083, Article 2a of 2023/956: the 50 t yearly mass threshold covers
these sectors only; electricity and hydrogen are never exempted by it."""

EU_MEMBER_STATES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "HU",
    }
)
EXEMPT_ORIGINS = frozenset({"IS", "LI", "NO", "CH"})
_ALPHA3 = {
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "IRL",
    "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE",
    "HUN", "ISL", "LIE", "NOR", "CHE",
}  # fmt: skip
"""Annex III, point 1 (countries); the territories of point 2 are customs-wise part of
these or of Member States, so their ISO code is one of the above or of the Union."""


def normalise_cn(code: str, *, where: str = "CN code") -> str:
    """Digits only (spaces and dots dropped); 4 to 10 digits, as the CN and TARIC use them."""
    digits = "".join(ch for ch in code if not ch.isspace() and ch != ".")
    if not digits.isdigit() or not 4 <= len(digits) <= 10:
        raise CbamError(f"{where}: {code!r} is not a CN code (4 to 10 digits)")
    return digits


def sector_of(cn_code: str) -> Sector:
    """The Annex I sector of a CN code; an error for goods outside the CBAM."""
    code = normalise_cn(cn_code)
    best: tuple[int, Sector] | None = None
    for prefix, sector in _CN_PREFIXES:
        if code.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), sector)
    if best is None:
        raise CbamError(f"CN code {cn_code!r} is not a CBAM good (Annex I of Regulation 2023/956)")
    return best[1]


def counts_indirect(cn_code: str) -> bool:
    """Whether indirect emissions are part of the chargeable embedded emissions (Annex II)."""
    return sector_of(cn_code) not in DIRECT_ONLY_SECTORS


def zero_rated_origin(country: str) -> bool:
    """Goods from the Union or an Annex III country carry no embedded emissions for CBAM
    (ISO 3166 alpha-2 or alpha-3 codes, or "EU")."""
    code = country.strip().upper()
    return code in ("EU", *EU_MEMBER_STATES) or code in EXEMPT_ORIGINS or code in _ALPHA3
