"""The shipped reference list: NAICS index phrases with EPA factors, hashed for the audit trail."""

import csv
import hashlib
from importlib import resources

from fedcarbon.matching.reference import load_reference


def test_every_phrase_names_a_code_with_an_epa_factor() -> None:
    reference = load_reference()
    assert len(reference.phrases) > 20_000
    assert {p.naics6 for p in reference.phrases} == set(reference.titles)
    with (
        resources.files("fedcarbon.accounting.data")
        .joinpath("epa_supply_chain_v1_2.csv")
        .open(encoding="utf-8") as handle
    ):
        epa = {row["activity"].rsplit(".", 1)[-1] for row in csv.DictReader(handle)}
    assert set(reference.titles) == epa


def test_titles_drop_the_epa_unit_suffix() -> None:
    assert load_reference().titles["332722"] == "Bolt, Nut, Screw, Rivet, and Washer Manufacturing"


def test_the_hashes_are_of_the_shipped_files() -> None:
    data = resources.files("fedcarbon.matching.data").joinpath("naics_2017_index.csv")
    assert load_reference().reference_sha256 == hashlib.sha256(data.read_bytes()).hexdigest()


def test_codes_sharing_an_epa_sector_share_a_factor_group() -> None:
    groups = load_reference().factor_group
    assert groups["111110"] == groups["111120"] == "1111A0"
