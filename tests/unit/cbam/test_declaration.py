"""The importer's declaration: SEE received or defaults, de minimis, certificates due."""

from pathlib import Path

import pytest

from fedcarbon.cbam.communication import CommunicatedGood, Communication
from fedcarbon.cbam.declaration import declare, read_customs_lines
from fedcarbon.cbam.defaults import DefaultValueTable, MarkupSchedule
from fedcarbon.cbam.errors import DeclarationError

HEADER = "year,cn_code,country,installation,net_mass_t\n"


def _lines(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "customs.csv"
    path.write_text(header + body)
    return path


def _received() -> dict[str, Communication]:
    good = CommunicatedGood("HRC", "7208", "C", 1.8, 0.4, False, 0.0)
    return {"ZA-STEEL-1": Communication("ZA-STEEL-1", "Steel", "ZA", "2026", (good,))}


def _declare(path: Path, **kw: object) -> list:  # type: ignore[type-arg]
    return declare(
        read_customs_lines(path),
        _received(),
        DefaultValueTable.load(),
        MarkupSchedule.load(),
        **kw,  # type: ignore[arg-type]
    )


def test_received_see_is_used_and_indirect_dropped_for_steel(tmp_path: Path) -> None:
    (year,) = _declare(_lines(tmp_path, "2026,72081000,ZAF,ZA-STEEL-1,100\n"))
    assert year.embedded_t_co2e == pytest.approx(180.0)
    assert year.lines[0].source == "communicated by ZA-STEEL-1"


def test_default_with_markup_where_nothing_was_received(tmp_path: Path) -> None:
    (year,) = _declare(_lines(tmp_path, "2027,72081000,ZAF,unknown-mill,100\n"))
    assert year.embedded_t_co2e == pytest.approx(100 * 4.14 * 1.2)
    assert year.lines[0].markup_pct == 20


def test_cement_counts_indirect_emissions(tmp_path: Path) -> None:
    (year,) = _declare(_lines(tmp_path, "2026,25232900,DZA,,60\n"))
    assert year.embedded_t_co2e == pytest.approx(60 * (1.23 + 0.06) * 1.1)


def test_de_minimis_exempts_up_to_50_t_but_never_hydrogen(tmp_path: Path) -> None:
    path = _lines(tmp_path, "2026,72081000,ZAF,,30\n2026,25232900,DZA,,20\n2026,28041000,SGP,,2\n")
    (year,) = _declare(path)
    assert year.de_minimis_mass_t == 50 and year.de_minimis_applies
    assert [line.exempt for line in year.lines] == [True, True, False]
    assert year.chargeable_t_co2e == pytest.approx(2 * 14.03 * 1.1)
    assert year.certificates_due == 31  # 30.866 t rounded up to whole certificates


def test_above_50_t_every_line_counts(tmp_path: Path) -> None:
    path = _lines(tmp_path, "2026,72081000,ZAF,,30\n2026,25232900,DZA,,20.5\n")
    (year,) = _declare(path)
    assert not year.de_minimis_applies
    assert year.chargeable_t_co2e == pytest.approx(year.embedded_t_co2e)


def test_years_are_declared_separately(tmp_path: Path) -> None:
    path = _lines(tmp_path, "2026,72081000,ZAF,,40\n2027,72081000,ZAF,,40\n")
    assert [(y.year, y.de_minimis_applies) for y in _declare(path)] == [(2026, True), (2027, True)]


def test_free_allocation_and_carbon_price_reduce_certificates(tmp_path: Path) -> None:
    received = _received()
    good = CommunicatedGood("HRC", "7208", "C", 2.0, 0.0, False, 20.0)
    received["ZA-STEEL-1"] = Communication("ZA-STEEL-1", "Steel", "ZA", "2026", (good,))
    (year,) = declare(
        read_customs_lines(_lines(tmp_path, "2026,72081000,ZAF,ZA-STEEL-1,100\n")),
        received,
        DefaultValueTable.load(),
        MarkupSchedule.load(),
        free_allocation={"7208": 0.5},
        certificate_price_eur=80.0,
    )
    # 200 t embedded - 50 t free allocation - 200 x 20/80 = 50 t carbon price paid
    assert (year.free_allocation_t_co2e, year.carbon_price_deduction_t_co2e) == (50.0, 50.0)
    assert year.certificates_due_t_co2e == pytest.approx(100.0)
    assert any("certificate price 80" in a for a in year.assumptions)


def test_carbon_price_without_certificate_price_is_an_error(tmp_path: Path) -> None:
    received = _received()
    good = CommunicatedGood("HRC", "7208", "C", 2.0, 0.0, False, 20.0)
    received["ZA-STEEL-1"] = Communication("ZA-STEEL-1", "Steel", "ZA", "2026", (good,))
    with pytest.raises(DeclarationError, match="--certificate-price"):
        declare(
            read_customs_lines(_lines(tmp_path, "2026,72081000,ZAF,ZA-STEEL-1,100\n")),
            received,
            DefaultValueTable.load(),
            MarkupSchedule.load(),
        )


def test_assumptions_state_no_free_allocation_by_default(tmp_path: Path) -> None:
    (year,) = _declare(_lines(tmp_path, "2026,72081000,ZAF,,100\n"))
    assert "no free-allocation adjustment assumed (upper bound)" in year.assumptions


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2026,72081000,ZAF,,-5\n", "row 2, net_mass_t"),
        ("2026,72081000,ZAF,,lots\n", "row 2, net_mass_t: 'lots'"),
        ("20x6,72081000,ZAF,,5\n", "row 2, year"),
        ("2026,0101,ZAF,,5\n", "not a CBAM good"),
        ("2026,72081000,,,5\n", "row 2, country"),
    ],
)
def test_bad_customs_lines_name_the_row_and_field(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        read_customs_lines(_lines(tmp_path, body))


def test_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="net_mass_t"):
        read_customs_lines(
            _lines(tmp_path, "2026,7208,ZAF,x\n", "year,cn_code,country,installation\n")
        )


def test_ambiguous_clinker_default_asks_for_route(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match=r"row 2.*route"):
        _declare(_lines(tmp_path, "2026,25231000,DZA,,100\n"))


def test_default_used_for_a_good_the_installation_did_not_send_is_noted(tmp_path: Path) -> None:
    (year,) = _declare(_lines(tmp_path, "2026,72131000,ZAF,ZA-STEEL-1,100\n"))
    assert "ZA-STEEL-1 sent no figure for CN 72131000" in year.lines[0].source
