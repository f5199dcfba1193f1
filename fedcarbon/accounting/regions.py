"""Region codes of activity records: ISO 3166-1 alpha-2 countries, their subdivisions, GLOBAL.

A region that is not a country code used to fall back silently to the GLOBAL factor (the world
average grid, the IPCC defaults), so a typo such as ``UK`` for Great Britain gave a wrong
number without a word. The engine now refuses a country part that ISO 3166-1 does not assign,
with a hint for the common mistakes (``UK`` -> ``GB``, ``EL`` -> ``GR``, ``EU``).

The list is ISO 3166-1 alpha-2 (officially assigned codes, as published on the ISO Online
Browsing Platform) plus ``XK`` (Kosovo), a user-assigned code the European Commission, the
World Bank and Ember use. Subdivision suffixes (``GB-SCT``) are not checked against
ISO 3166-2: the factor lookup falls back from them to the country, which is then checked.
"""

from __future__ import annotations

from fedcarbon.accounting.errors import UnknownRegionError

COUNTRIES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a code table reads better as text
)
"""ISO 3166-1 alpha-2 codes (and XK)."""


def check_region(region: str) -> None:
    """Refuse a region whose country is not ISO 3166-1 alpha-2 (GLOBAL is always accepted).

    Raises:
        UnknownRegionError: e.g. ``UK``, ``EU``, ``ZZ``, naming the right code where known.
    """
    if region == "GLOBAL":
        return
    if region.split("-", 1)[0] not in COUNTRIES:
        raise UnknownRegionError(region)


__all__ = ["COUNTRIES", "UnknownRegionError", "check_region"]
