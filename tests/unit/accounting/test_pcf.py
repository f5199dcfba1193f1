"""Allocation of a site's cradle-to-gate footprint to its products (mass, physical, economic)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.accounting.engine import Footprint, OutputLine, RecordResult
from fedcarbon.accounting.factors import EmissionFactor
from fedcarbon.accounting.pcf import (
    CRADLE_TO_GATE_SCOPE3,
    AllocationError,
    allocate_products,
    cradle_to_gate_kgco2e,
    declared_unit,
    emissions_for_customer,
)


def _out(
    product: str, quantity: float, unit: str = "kg", customer: str | None = None, n: int = 0
) -> OutputLine:
    return OutputLine(
        record_id=f"out-{product}-{n}",
        product=product,
        quantity=quantity,
        unit=unit,
        customer=customer,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        site="plant",
    )


def _result(
    record_id: str, scope: str, category: str, co2e: float, primary: bool = False
) -> RecordResult:
    return RecordResult(
        record_id=record_id,
        activity="x.y",
        scope=scope,
        category=category,
        co2e_kg=co2e,
        co2e_market_kg=co2e if scope == "2" else None,
        gases_kg={},
        biogenic_co2_kg=0.0,
        factor=None,
        factor_ref="",
        gwp="AR6",
        method="activity",
        primary=primary,
        primary_share=1.0 if primary else 0.0,
    )


def _footprint(
    outputs: list[OutputLine],
    scope1: float = 1000.0,
    scope2: float = 500.0,
    by_scope3: dict[int, float] | None = None,
    records: list[RecordResult] | None = None,
    biogenic: float = 0.0,
) -> Footprint:
    scope3 = by_scope3 if by_scope3 is not None else {1: 300.0, 6: 50.0, 9: 70.0}
    by_category = {"scope1.stationary": scope1, "scope2.electricity": scope2}
    by_category.update({f"scope3.cat{n}": v for n, v in scope3.items()})
    return Footprint(
        gwp="AR6",
        scope1_kgco2e=scope1,
        scope2_location_kgco2e=scope2 * 1.1,
        scope2_market_kgco2e=scope2,
        scope3_kgco2e=sum(scope3.values()),
        by_category=by_category,
        by_gas={},
        biogenic_co2_kg=biogenic,
        primary_data_share=0.5,
        records=records or [],
        outputs=tuple(outputs),
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
    )


# -- the boundary -----------------------------------------------------------------------------


def test_cradle_to_gate_pool_is_scope1_scope2_market_and_upstream_categories() -> None:
    footprint = _footprint([_out("a", 1)], by_scope3={1: 300.0, 4: 20.0, 6: 50.0, 9: 70.0})
    assert cradle_to_gate_kgco2e(footprint) == pytest.approx(1000 + 500 + 300 + 20)


def test_business_travel_and_downstream_are_outside_the_gate() -> None:
    assert 6 not in CRADLE_TO_GATE_SCOPE3 and 9 not in CRADLE_TO_GATE_SCOPE3


def test_boundary_can_be_widened_to_other_categories() -> None:
    footprint = _footprint([_out("a", 1)])
    assert cradle_to_gate_kgco2e(footprint, (1, 6)) == pytest.approx(1000 + 500 + 300 + 50)


# -- methods ----------------------------------------------------------------------------------


def test_mass_allocation_shares_by_kg_across_units() -> None:
    footprint = _footprint([_out("steel", 1.5, "t"), _out("slag", 500, "kg")])
    steel, slag = allocate_products(footprint)
    assert (steel.allocation_share, slag.allocation_share) == pytest.approx((0.75, 0.25))


def test_mass_allocation_gives_equal_kg_the_same_pcf() -> None:
    footprint = _footprint([_out("steel", 1.5, "t"), _out("slag", 500, "kg")])
    steel, slag = allocate_products(footprint)
    assert steel.pcf_excluding_biogenic == pytest.approx(slag.pcf_excluding_biogenic)


def test_mass_allocation_worked_example() -> None:
    """1800 kg CO2e over 1500 kg + 500 kg: 0.9 kg CO2e per kg of each."""
    footprint = _footprint([_out("steel", 1.5, "t"), _out("slag", 500, "kg")])
    steel, _ = allocate_products(footprint)
    assert (
        steel.declared_unit,
        steel.product_amount,
        steel.pcf_excluding_biogenic,
    ) == pytest.approx(
        (
            "kilogram",
            1500,
            0.9,
        )
    )


def test_mass_allocation_of_pieces_uses_the_given_mass() -> None:
    footprint = _footprint([_out("bolt", 1000, "piece"), _out("plate", 800, "kg")])
    bolt, _plate = allocate_products(footprint, masses={"bolt": 0.2})
    assert (bolt.allocation_share, bolt.mass_kg_per_unit) == pytest.approx((0.2, 0.2))


def test_mass_allocation_of_pieces_without_mass_names_the_record() -> None:
    footprint = _footprint([_out("bolt", 1000, "piece"), _out("plate", 800, "kg")])
    with pytest.raises(AllocationError) as caught:
        allocate_products(footprint)
    assert caught.value.record_id == "out-bolt-0"


def test_economic_allocation_shares_by_revenue() -> None:
    footprint = _footprint([_out("steel", 1000), _out("slag", 1000)])
    steel, slag = allocate_products(
        footprint, method="economic", prices={"steel": 0.9, "slag": 0.1}
    )
    assert (steel.allocation_share, slag.allocation_share) == pytest.approx((0.9, 0.1))


def test_economic_allocation_without_a_price_names_the_product() -> None:
    footprint = _footprint([_out("steel", 1000), _out("slag", 1000)])
    with pytest.raises(AllocationError, match="'slag'"):
        allocate_products(footprint, method="economic", prices={"steel": 0.9})


def test_negative_price_is_refused() -> None:
    footprint = _footprint([_out("steel", 1000), _out("slag", 1000)])
    with pytest.raises(AllocationError, match=">= 0"):
        allocate_products(footprint, method="economic", prices={"steel": 1, "slag": -1})


def test_physical_allocation_by_named_quantity_per_unit() -> None:
    """Energy content: 1000 kg at 40 MJ/kg and 1000 kg at 10 MJ/kg share 80/20."""
    footprint = _footprint([_out("diesel", 1000), _out("residue", 1000)])
    diesel, _residue = allocate_products(
        footprint,
        method="physical",
        physical={"diesel": 40.0, "residue": 10.0},
        physical_quantity="MJ lower heating value",
    )
    assert (
        diesel.allocation_share,
        "MJ lower heating value" in diesel.allocation_description,
    ) == pytest.approx(
        (
            0.8,
            True,
        )
    )


def test_physical_allocation_by_output_quantity_converts_units() -> None:
    footprint = _footprint([_out("steam", 3.6, "GJ"), _out("power", 1000, "kWh")])
    steam, power = allocate_products(footprint, method="physical")
    assert (steam.allocation_share, steam.declared_unit, power.declared_unit) == pytest.approx(
        (
            0.5,
            "megajoule",
            "kilowatt hour",
        )
    )


def test_physical_allocation_across_dimensions_needs_a_quantity() -> None:
    footprint = _footprint([_out("steam", 3.6, "GJ"), _out("slag", 10, "kg")])
    with pytest.raises(AllocationError, match="one dimension"):
        allocate_products(footprint, method="physical")


def test_unknown_method_is_refused() -> None:
    with pytest.raises(AllocationError, match="unknown allocation method"):
        allocate_products(_footprint([_out("a", 1)]), method="volume")


def test_footprint_without_outputs_is_refused() -> None:
    with pytest.raises(AllocationError, match="no production output"):
        allocate_products(_footprint([]))


def test_product_counted_in_two_kinds_of_unit_is_refused() -> None:
    footprint = _footprint([_out("a", 1, "kg"), _out("a", 1, "L", n=1)])
    with pytest.raises(AllocationError) as caught:
        allocate_products(footprint)
    assert caught.value.record_id == "out-a-1"


def test_money_is_not_a_declared_unit() -> None:
    with pytest.raises(AllocationError, match="no PACT declared unit"):
        declared_unit("USD")


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("t", ("kilogram", 1000.0)),
        ("m**3", ("cubic meter", 1.0)),
        ("mL", ("liter", 0.001)),
        ("MWh", ("kilowatt hour", 1000.0)),
        ("GJ", ("megajoule", 1000.0)),
        ("tkm", ("ton kilometer", 1.0)),
        ("piece", ("piece", 1.0)),
    ],
)
def test_output_units_map_to_pact_declared_units(unit: str, expected: tuple[str, float]) -> None:
    name, factor = declared_unit(unit)
    assert (name, factor) == pytest.approx((expected[0], expected[1]))


# -- data quality -----------------------------------------------------------------------------


def test_primary_data_share_counts_only_the_boundary() -> None:
    records = [
        _result("fuel", "1", "scope1.stationary", 600.0, primary=True),
        _result("power", "2", "scope2.electricity", 400.0),
        _result("flights", "3", "scope3.cat6", 1000.0, primary=True),
    ]
    (pcf,) = allocate_products(_footprint([_out("a", 10)], records=records))
    assert pcf.primary_data_share == pytest.approx(0.6)


def _factor(dataset: str) -> EmissionFactor:
    return EmissionFactor(
        dataset=dataset,
        dataset_version="1",
        activity="x.y",
        region="GB",
        unit="kWh",
        gases={"CO2": 0.2},
        co2e_gwp_basis=None,
        biogenic_co2=0.0,
        scope="1",
        category="scope1.stationary",
        source="test",
        source_ref="row 1",
        year=2024,
        licence="test",
    )


def test_secondary_sources_are_the_datasets_of_secondary_records_in_the_boundary() -> None:
    records = [
        replace(_result("fuel", "1", "scope1.stationary", 600.0), factor=_factor("desnz")),
        replace(_result("fly", "3", "scope3.cat6", 10.0), factor=_factor("travel")),
        replace(_result("own", "1", "scope1.process", 5.0, primary=True), factor=_factor("own")),
    ]
    (pcf,) = allocate_products(_footprint([_out("a", 10)], records=records))
    assert pcf.secondary_sources == (("desnz", "1"),)


def test_biogenic_co2_counts_only_the_boundary() -> None:
    records = [
        replace(_result("wood", "1", "scope1.stationary", 1.0), biogenic_co2_kg=40.0),
        replace(_result("fly", "3", "scope3.cat6", 1.0), biogenic_co2_kg=1000.0),
    ]
    (pcf,) = allocate_products(_footprint([_out("a", 10)], records=records, biogenic=1040.0))
    assert pcf.biogenic_co2_kg_per_unit == pytest.approx(4.0)


def test_geography_and_names_per_product() -> None:
    footprint = _footprint([_out("a", 1), _out("b", 1)])
    a, b = allocate_products(footprint, geography={"a": "DE"}, product_names={"b": "Bee"})
    assert (a.geography, b.geography, b.product_name) == ("DE", "GLOBAL", "Bee")


# -- customers --------------------------------------------------------------------------------


def test_customer_emissions_are_their_deliveries_share() -> None:
    footprint = _footprint([_out("a", 300, customer="acme"), _out("a", 700, customer="bolt", n=1)])
    assert emissions_for_customer(footprint, "acme") == pytest.approx(
        0.3 * cradle_to_gate_kgco2e(footprint)
    )


def test_customer_without_deliveries_carries_nothing() -> None:
    footprint = _footprint([_out("a", 300, customer="acme")])
    assert emissions_for_customer(footprint, "zeta") == 0.0


# -- properties -------------------------------------------------------------------------------

_MASS_UNITS = {"kg": 1.0, "t": 1000.0, "g": 0.001}
_quantity = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)
_emissions = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)


@st.composite
def _outputs(draw: st.DrawFn) -> list[OutputLine]:
    count = draw(st.integers(min_value=1, max_value=6))
    products = draw(st.lists(st.sampled_from("abcd"), min_size=count, max_size=count))
    lines = []
    for n, product in enumerate(products):
        unit = draw(st.sampled_from(sorted(_MASS_UNITS)))
        customer = draw(st.sampled_from([None, "acme", "bolt"]))
        lines.append(_out(product, draw(_quantity), unit, customer, n))
    return lines


@settings(max_examples=60, deadline=None)
@given(_outputs(), _emissions, _emissions, _emissions)
def test_allocated_totals_sum_back_to_the_cradle_to_gate_footprint(
    outputs: list[OutputLine], scope1: float, scope2: float, cat1: float
) -> None:
    footprint = _footprint(outputs, scope1, scope2, {1: cat1, 7: 5.0})
    pcfs = allocate_products(footprint)
    total = sum(p.pcf_excluding_biogenic * p.product_amount for p in pcfs)
    assert total == pytest.approx(cradle_to_gate_kgco2e(footprint), rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(_outputs(), st.floats(min_value=0.01, max_value=1e4))
def test_economic_allocation_with_equal_prices_is_mass_allocation(
    outputs: list[OutputLine], price: float
) -> None:
    footprint = _footprint(outputs)
    prices = {line.product: price for line in outputs}
    by_mass = {p.product_id: p.allocation_share for p in allocate_products(footprint)}
    by_value = {
        p.product_id: p.allocation_share
        for p in allocate_products(footprint, method="economic", prices=prices)
    }
    assert by_value == pytest.approx(by_mass, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(_outputs())
def test_physical_allocation_of_mass_outputs_is_mass_allocation(
    outputs: list[OutputLine],
) -> None:
    footprint = _footprint(outputs)
    by_mass = {p.product_id: p.allocation_share for p in allocate_products(footprint)}
    by_quantity = {
        p.product_id: p.allocation_share for p in allocate_products(footprint, method="physical")
    }
    assert by_quantity == pytest.approx(by_mass, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(_outputs(), st.floats(min_value=0.5, max_value=100))
def test_scaling_every_output_scales_each_pcf_inversely(
    outputs: list[OutputLine], factor: float
) -> None:
    footprint = _footprint(outputs)
    scaled = replace(
        footprint, outputs=tuple(replace(o, quantity=o.quantity * factor) for o in outputs)
    )
    before = {p.product_id: p.pcf_excluding_biogenic for p in allocate_products(footprint)}
    after = {p.product_id: p.pcf_excluding_biogenic * factor for p in allocate_products(scaled)}
    assert after == pytest.approx(before, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(_outputs())
def test_customers_and_unassigned_output_add_up_to_the_pool(outputs: list[OutputLine]) -> None:
    footprint = _footprint(outputs)
    kept = sum(
        p.allocated_kgco2e * _share_without_customer(footprint, p.product_id)
        for p in allocate_products(footprint)
    )
    customers = {o.customer for o in outputs if o.customer is not None}
    total = sum(emissions_for_customer(footprint, c) for c in customers) + kept
    assert total == pytest.approx(cradle_to_gate_kgco2e(footprint), rel=1e-9, abs=1e-6)


def _share_without_customer(footprint: Footprint, product: str) -> float:
    """Share of a product's mass that went to no customer (all outputs here are in kg units)."""
    lines = [o for o in footprint.outputs if o.product == product]
    kg = [o.quantity * _MASS_UNITS[o.unit] for o in lines]
    return sum(k for k, o in zip(kg, lines, strict=True) if o.customer is None) / sum(kg)
