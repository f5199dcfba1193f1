"""The matcher's knowledge base: NAICS index phrases and EPA commodity titles, with hashes.

Two public-domain sources, shipped as package data (see ``data/LICENCES.md``):

* the US Census Bureau 2017 NAICS Index File (about 20,000 activity and product phrases, each
  with its NAICS-6 code) and the 2017 code titles, derived by ``scripts/derive_naics_index.py``
  into ``data/naics_2017_index.csv``;
* the commodity titles of the US EPA Supply Chain GHG Emission Factors v1.2 by NAICS-6
  (DOI 10.23719/1528686), read from the factor dataset the accounting package already ships.

Only codes with an EPA factor are kept: a suggestion must lead to a factor.
The SHA-256 of both files goes into every audit record, so a mapping can be re-traced to the
exact reference list and factor data it was made with.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

INDEX_FILE = "naics_2017_index.csv"
FACTOR_FILE = "epa_supply_chain_v1_2.csv"
_EPA_SUFFIX = " - kg per 2021 USD purchaser price (US economy)"


@dataclass(frozen=True, slots=True)
class Phrase:
    """One reference phrase and the NAICS-6 code it names; ``kind`` is index, title or epa."""

    naics6: str
    kind: str
    text: str


@dataclass(frozen=True)
class Reference:
    """Every phrase, the title and EPA factor id per code, and the files' SHA-256 hashes.

    ``factor_group`` maps a code to the USEEIO sector whose factor it carries: EPA v1.2 gives
    several NAICS-6 codes the same factor, and a benchmark counts such a code as right.
    """

    phrases: tuple[Phrase, ...]
    titles: dict[str, str]
    factor_group: dict[str, str]
    reference_sha256: str
    factors_sha256: str


def _data(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(name).read_bytes()


@cache
def load_reference() -> Reference:
    """Read the shipped reference list and factor titles (once per process)."""
    index_bytes = _data("fedcarbon.matching.data", INDEX_FILE)
    factor_bytes = _data("fedcarbon.accounting.data", FACTOR_FILE)
    titles: dict[str, str] = {}
    groups: dict[str, str] = {}
    phrases: list[Phrase] = []
    for row in csv.DictReader(factor_bytes.decode("utf-8").splitlines()):
        code = row["activity"].rsplit(".", 1)[-1]
        title = row["description"].removesuffix(_EPA_SUFFIX).strip()
        titles[code] = title
        # source_ref reads "NAICS 111110 (USEEIO 1111A0), ...": the factor's sector.
        ref = row["source_ref"]
        groups[code] = ref[ref.find("(USEEIO ") + 8 : ref.find(")")] if "(USEEIO " in ref else code
        phrases.append(Phrase(code, "epa", title))
    for row in csv.DictReader(index_bytes.decode("utf-8").splitlines()):
        if row["naics6"] in titles:
            phrases.append(Phrase(row["naics6"], row["kind"], row["text"]))
    return Reference(
        phrases=tuple(phrases),
        titles=titles,
        factor_group=groups,
        reference_sha256=hashlib.sha256(index_bytes).hexdigest(),
        factors_sha256=hashlib.sha256(factor_bytes).hexdigest(),
    )
