"""What an exported PCF says about its data: primary share, DQRs, uptake, exemptions (issue 15)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.pact import (
    Company,
    dump_footprint,
    export_products,
    factors_from_pact,
    load_footprints,
)
from fedcarbon.accounting.records import ActivityRecord

DATA = Path(__file__).resolve().parents[2] / "data" / "pact"
OWNER = Company(name="Acme", ids=("urn:pact:acme.example:company",), domain="acme.example")
SUPPLIED = "pcf.gtin.5695872369587"  # example-1: 12.9 % primary, DQR 1.5/3.2/2.4, uptake -1.61


def _rec(record_id: str, activity: str, quantity: float, unit: str, **extra: Any) -> ActivityRecord:
    return ActivityRecord(
        record_id, date(2024, 1, 1), date(2024, 12, 31), "plant", activity, quantity, unit, "GB",
        **extra,
    )  # fmt: skip


def _catalog() -> FactorCatalog:
    return FactorCatalog.default().overlay(
        factors_from_pact(load_footprints(DATA / "example-1.json"))
    )


def _export(records: list[ActivityRecord]) -> dict[str, Any]:
    catalog = _catalog()
    footprint = compute_footprint(records, catalog)
    ((_, fp),) = export_products(footprint, records, catalog, OWNER)
    pcf: dict[str, Any] = dump_footprint(fp)["pcf"]
    return pcf


PURCHASE = _rec("buy", SUPPLIED, 1000.0, "kg", scope3_category=1)
OUTPUT = _rec("made", "output.widget", 500.0, "kg")


def test_primary_share_of_a_product_made_from_a_supplier_pcf_is_the_suppliers() -> None:
    assert float(_export([PURCHASE, OUTPUT])["primaryDataShare"]) == pytest.approx(12.9)


def test_primary_share_is_weighted_by_emissions() -> None:
    gas = _rec("gas", "fuel.natural_gas", 1000.0, "kWh", data_quality="primary")
    fp = compute_footprint([PURCHASE, gas, OUTPUT], _catalog())
    bought = fp.by_category["scope3.cat1"]
    expected = (0.129 * bought + fp.scope1_kgco2e) / (bought + fp.scope1_kgco2e)
    assert fp.primary_data_share == pytest.approx(expected)


def test_supplier_dqrs_are_carried_into_the_export() -> None:
    dqi = _export([PURCHASE, OUTPUT])["dqi"]
    assert (dqi["technologicalDQR"], dqi["geographicalDQR"], dqi["temporalDQR"]) == (
        "1.5", "3.2", "2.4",
    )  # fmt: skip


def test_dqrs_are_left_out_when_only_part_of_the_emissions_has_them() -> None:
    gas = _rec("gas", "fuel.natural_gas", 100000.0, "kWh")
    wtt = _rec("wtt", "wtt.fuel.natural_gas", 100000.0, "kWh")
    assert "dqi" not in _export([PURCHASE, gas, wtt, OUTPUT])


def test_record_dqrs_count_in_the_weighted_mean() -> None:
    gas = _rec("gas", "fuel.natural_gas", 1000.0, "kWh", data_quality="primary dqr=1/1/1")
    fp = compute_footprint([PURCHASE, gas, OUTPUT], _catalog())
    bought, burnt = fp.by_category["scope3.cat1"], fp.scope1_kgco2e
    assert fp.dqr is not None
    assert fp.dqr[1] == pytest.approx((3.2 * bought + 1.0 * burnt) / (bought + burnt))


def test_biogenic_uptake_of_supplied_material_is_carried_per_unit() -> None:
    pcf = _export([PURCHASE, OUTPUT])
    assert float(pcf["biogenicCO2Uptake"]) == pytest.approx(-1.61 * 1000 / 500)


def test_missing_category_3_is_not_exported_as_zero_exemption() -> None:
    gas = _rec("gas", "fuel.natural_gas", 100000.0, "kWh")
    pcf = _export([gas, OUTPUT])
    assert float(pcf["exemptedEmissionsPercent"]) > 5
    assert "category 3" in pcf["exemptedEmissionsDescription"]


def test_exemption_estimate_is_the_wtt_share_of_the_completed_total() -> None:
    gas = _rec("gas", "fuel.natural_gas", 100000.0, "kWh")
    wtt = _rec("wtt", "wtt.fuel.natural_gas", 100000.0, "kWh")
    full = compute_footprint([gas, wtt, OUTPUT])
    share = 100 * full.by_category["scope3.cat3"] / full.total_kgco2e
    assert float(_export([gas, OUTPUT])["exemptedEmissionsPercent"]) == pytest.approx(
        share, abs=0.01
    )


def test_category_3_records_mean_nothing_is_exempted() -> None:
    gas = _rec("gas", "fuel.natural_gas", 100000.0, "kWh")
    wtt = _rec("wtt", "wtt.fuel.natural_gas", 100000.0, "kWh")
    assert _export([gas, wtt, OUTPUT])["exemptedEmissionsPercent"] == "0"


def test_exemption_outside_the_uk_discloses_the_proxy() -> None:
    gas = ActivityRecord(
        "gas", date(2024, 1, 1), date(2024, 12, 31), "plant", "fuel.natural_gas", 10.0, "TJ", "DE"
    )
    pcf = _export([gas, OUTPUT])
    assert "proxy for DE" in pcf["exemptedEmissionsDescription"]
