"""Default values of 2025/2621: lookup by CN, country, route; fallback; clinker; mark-ups."""

from pathlib import Path

import pytest

from fedcarbon.cbam.defaults import DefaultValueTable, MarkupSchedule, marked_up
from fedcarbon.cbam.errors import DefaultValueError
from fedcarbon.cbam.goods import Sector

FALLBACK = Path(__file__).parent / "data" / "defaults_with_fallback.csv"


@pytest.fixture(scope="module")
def sample() -> DefaultValueTable:
    return DefaultValueTable.load()


def test_sample_row_is_found_by_cn_and_iso3(sample: DefaultValueTable) -> None:
    found = sample.lookup("25232900", "DZA")
    assert (found.direct, found.indirect, found.fallback) == (1.23, 0.06, False)


def test_country_name_works_as_well_as_iso3(sample: DefaultValueTable) -> None:
    assert sample.lookup("7601", "South Africa").value.route == "K"


def test_eight_digit_code_finds_a_four_digit_heading(sample: DefaultValueTable) -> None:
    assert sample.lookup("72083900", "ZAF").direct == 4.14


def test_clinker_cn_alone_is_ambiguous_and_asks_for_the_route(sample: DefaultValueTable) -> None:
    with pytest.raises(DefaultValueError, match=r"not a unique key.*route") as caught:
        sample.lookup("25231000", "DZA")
    assert "2523100010-white-clinker (route B)" in str(caught.value)
    assert "2523100090-other-clinker-including-grey-clinker (route A)" in str(caught.value)


def test_clinker_route_picks_white_or_grey(sample: DefaultValueTable) -> None:
    assert sample.lookup("25231000", "DZA", "B").direct == 1.29
    assert sample.lookup("25231000", "DZA", "A").direct == 1.24
    assert sample.lookup("2523100010", "DZA").direct == 1.29


def test_unknown_route_names_the_known_ones(sample: DefaultValueTable) -> None:
    with pytest.raises(DefaultValueError, match=r"route 'Z'.*\['A', 'B'\]"):
        sample.lookup("25231000", "DZA", "Z")


def test_empty_country_row_falls_back_to_other_countries() -> None:
    table = DefaultValueTable.load(FALLBACK)
    found = table.lookup("72081000", "ALB")
    assert (found.direct, found.fallback) == (4.5, True)


def test_country_without_rows_falls_back_too() -> None:
    assert DefaultValueTable.load(FALLBACK).lookup("25232900", "VNM").direct == 1.1


def test_no_value_and_no_fallback_is_an_error(sample: DefaultValueTable) -> None:
    with pytest.raises(DefaultValueError, match="Other countries and territories"):
        sample.lookup("2507008080", "ALB")


def test_markups_follow_the_schedule_and_hold_after_2028() -> None:
    schedule = MarkupSchedule.load()
    assert [schedule.percent(Sector.IRON_AND_STEEL, y) for y in (2026, 2027, 2028, 2031)] == [
        10,
        20,
        30,
        30,
    ]
    assert schedule.percent(Sector.FERTILISERS, 2027) == 1
    with pytest.raises(DefaultValueError, match="2025"):
        schedule.percent(Sector.CEMENT, 2025)


def test_marked_up_value_multiplies_direct_and_indirect(sample: DefaultValueTable) -> None:
    found = marked_up(sample, MarkupSchedule.load(), "31021019", "ZAF", 2027)
    assert found.markup_pct == 1
    assert (found.direct, found.indirect) == (pytest.approx(2.16 * 1.01), pytest.approx(0.2 * 1.01))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("country_or_territory,good_key\nA,7208-x\n", "missing column"),
        (
            "country_or_territory,country_iso3,good_key,default_direct_t_co2e_per_t,"
            "default_indirect_t_co2e_per_t,default_total_t_co2e_per_t,production_route_code\n"
            "A,AAA,7208-x,abc,,,\n",
            "row 2, direct: 'abc' is not a number",
        ),
        (
            "country_or_territory,country_iso3,good_key,default_direct_t_co2e_per_t,"
            "default_indirect_t_co2e_per_t,default_total_t_co2e_per_t,production_route_code\n"
            "A,AAA,steel-x,1,,,\n",
            "row 2, good_key",
        ),
    ],
)
def test_malformed_table_names_row_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(DefaultValueError, match=message):
        DefaultValueTable.load(path)
