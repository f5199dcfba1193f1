"""Attribution and SEE: simple and complex goods, precursors, heat, waste gas, electricity.

The expected numbers are worked by hand beside each test from the formulas of Regulation (EU)
2023/956 Annex IV point 2 and the attribution equations (2023/1773 Annex III F.1, kept by
2025/2547). The Commission's own worked examples are in test_commission_examples.py.
"""

from pathlib import Path

import pytest

from fedcarbon.cbam.embedded import (
    CORR_ETA,
    EF_NATURAL_GAS,
    Installation,
    PrecursorUse,
    ProductionProcess,
    PurchasedPrecursor,
    compute,
)
from fedcarbon.cbam.emissions import Method, SourceStream
from fedcarbon.cbam.errors import CalculationError
from fedcarbon.cbam.installation import load_installation

EXAMPLE = Path(__file__).parents[3] / "examples" / "cbam" / "installation.toml"


def _fuel(tco2: float, process: str) -> SourceStream:
    return SourceStream(
        name=f"fuel-{process}",
        method=Method.MEASURED,
        measured_t_co2e=tco2,
        shares={process: 1.0},
    )


def test_example_cement_works_reproduces_the_hand_calculation() -> None:
    result = compute(load_installation(EXAMPLE))
    clinker, cement = result.goods
    # kiln: (10000*26*0.0946 + 2000*20*0.08*0.5 + 150000*0.44) / 100000
    assert clinker.see_direct == pytest.approx(92196 / 100000)
    assert clinker.see_indirect == pytest.approx(9000 * 0.5 / 100000)
    # mill: (500*35*0.0561 + 90000*0.92196 + 5000*0.85 + 3000*0 [EU origin]) / 120000
    assert cement.see_direct == pytest.approx((981.75 + 82976.4 + 4250) / 120000)
    assert cement.see_indirect == pytest.approx((3000 + 90000 * 0.045 + 5000 * 0.03) / 120000)
    assert cement.see_total == pytest.approx(cement.see_direct + cement.see_indirect)


def test_simple_good_see_is_attributed_emissions_over_activity_level() -> None:
    inst = Installation(
        "i", "CN", "2026", (_fuel(2000.0, "al"),), (ProductionProcess("al", "Al", "7601", 1000),)
    )
    (good,) = compute(inst).goods
    assert (good.see_direct, good.see_indirect, good.indirect_counted) == (2.0, 0.0, False)


def test_heat_waste_gas_and_electricity_enter_attribution() -> None:
    process = ProductionProcess(
        "p",
        "pig iron",
        "7201",
        1000,
        heat_imported_tj=10,
        heat_exported_tj=4,
        heat_exported_ef=50.0,
        waste_gas_imported_gj=1000,
        waste_gas_exported_gj=3000,
        electricity_produced_mwh=100,
        electricity_produced_ef=0.8,
        electricity_consumed_mwh=200,
        electricity_ef=0.6,
    )
    (good,) = compute(Installation("i", "IN", "2026", (_fuel(5000.0, "p"),), (process,))).goods
    expected = (
        5000
        + 10 * 62.3
        - 4 * 50.0
        + 1000 * EF_NATURAL_GAS
        - 3000 * EF_NATURAL_GAS * CORR_ETA
        - 100 * 0.8
    )
    assert good.see_direct == pytest.approx(expected / 1000)
    assert good.see_indirect == pytest.approx(200 * 0.6 / 1000)


def test_precursors_recurse_through_several_processes() -> None:
    processes = (
        ProductionProcess("iron", "pig iron", "7201", 100, electricity_consumed_mwh=10),
        ProductionProcess(
            "steel", "crude steel", "7206", 80, precursors=(PrecursorUse("iron", 90),)
        ),
        ProductionProcess("hrc", "hot-rolled", "7208", 70, precursors=(PrecursorUse("steel", 75),)),
    )
    streams = (_fuel(200, "iron"), _fuel(40, "steel"), _fuel(7, "hrc"))
    goods = {
        g.process: g
        for g in compute(Installation("i", "IN", "", streams, processes, electricity_ef=1.0)).goods
    }
    iron = 200 / 100
    steel = (40 + 90 * iron) / 80
    assert goods["hrc"].see_direct == pytest.approx((7 + 75 * steel) / 70)
    assert goods["hrc"].see_indirect == pytest.approx(75 * (90 * 0.1 / 80) / 70)
    assert goods["hrc"].indirect_counted is False


@pytest.mark.parametrize("origin", ["DE", "FRA", "NO", "CH", "EU"])
def test_precursors_from_the_union_or_annex_iii_enter_at_zero(origin: str) -> None:
    inst = Installation(
        "i",
        "TR",
        "",
        (_fuel(10, "cem"),),
        (ProductionProcess("cem", "cement", "25232900", 10, precursors=(PrecursorUse("k", 8),)),),
        (PurchasedPrecursor("k", "25231000", origin, 0.9, 0.05),),
    )
    assert compute(inst).goods[0].see_direct == pytest.approx(1.0)


def test_precursor_cycle_is_an_error_naming_the_cycle() -> None:
    processes = (
        ProductionProcess("a", "x", "7206", 1, precursors=(PrecursorUse("b", 1),)),
        ProductionProcess("b", "y", "7207", 1, precursors=(PrecursorUse("a", 1),)),
    )
    with pytest.raises(CalculationError, match="a -> b -> a"):
        compute(Installation("i", "IN", "", (), processes))


def test_zero_activity_level_is_refused() -> None:
    with pytest.raises(CalculationError, match=r"processes\[p\].activity_level"):
        compute(Installation("i", "IN", "", (), (ProductionProcess("p", "x", "7201", 0),)))


def test_unknown_precursor_is_refused() -> None:
    process = ProductionProcess("p", "x", "7208", 1, precursors=(PrecursorUse("ghost", 1),))
    with pytest.raises(CalculationError, match="ghost"):
        compute(Installation("i", "IN", "", (), (process,)))


def test_negative_attributed_emissions_are_refused() -> None:
    process = ProductionProcess("p", "x", "7201", 1, heat_exported_tj=100)
    with pytest.raises(CalculationError, match="negative"):
        compute(Installation("i", "IN", "", (_fuel(1, "p"),), (process,)))


def test_every_see_has_a_figure_with_formula_and_source() -> None:
    good = compute(load_installation(EXAMPLE)).goods[1]
    labels = {f.label: f for f in good.figures}
    assert labels["SEE_dir(mill)"].value == good.see_direct
    assert "Annex IV" in labels["SEE_dir(mill)"].source
    assert "M x SEE(mill <- bought clinker DE)" in labels
