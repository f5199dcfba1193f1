"""Activity data through adapters: records summed per activity code, traced, failures loud."""

from pathlib import Path

import pytest

from fedcarbon.cbam.embedded import compute
from fedcarbon.cbam.errors import InstallationFileError
from fedcarbon.cbam.installation import load_installation

RECORDS = """record_id,period_start,period_end,site,activity,quantity,unit,region
c1,2026-01-01,2026-06-30,kiln,fuel.coal,4000,t,TR
c2,2026-07-01,2026-12-31,kiln,fuel.coal,6000000,kg,TR
c0,2025-07-01,2025-12-31,kiln,fuel.coal,999,t,TR
e1,2026-01-01,2026-12-31,kiln,electricity.grid,9000000,kWh,TR
o1,2026-01-01,2026-12-31,kiln,output.clinker,100000,t,TR
"""

INSTALLATION = """
[installation]
name = "Kiln works"
country = "TR"
period_start = 2026-01-01
period_end = 2026-12-31
electricity_emission_factor = 0.5

[[adapters]]
name = "csv"
path = "records.csv"

[[source_streams]]
name = "coal"
method = "combustion"
activity = "fuel.coal"
unit = "t"
ncv = 26.0
emission_factor = 0.0946
process = "kiln"

[[processes]]
name = "kiln"
good = "Grey clinker"
cn_code = "2523100090"
site = "kiln"
activity_level_activity = "output.clinker"
electricity_activity = "electricity.grid"
"""


def _write(tmp_path: Path, installation: str = INSTALLATION, records: str = RECORDS) -> Path:
    (tmp_path / "records.csv").write_text(records)
    path = tmp_path / "installation.toml"
    path.write_text(installation)
    return path


def test_records_in_the_period_are_summed_in_the_streams_unit(tmp_path: Path) -> None:
    result = compute(load_installation(_write(tmp_path)))
    (good,) = result.goods
    assert good.see_direct == pytest.approx(10000 * 26.0 * 0.0946 / 100000)
    assert good.see_indirect == pytest.approx(9000 * 0.5 / 100000)
    traced = {f.label: f for f in result.figures}
    coal = traced["AD(coal)"]
    assert coal.value == 10000 and "sum of 2 record(s) 'fuel.coal'" in coal.formula


def test_missing_records_are_an_error_naming_the_field(tmp_path: Path) -> None:
    records = RECORDS.replace("output.clinker", "output.cement")
    with pytest.raises(InstallationFileError, match=r"processes\[0\].activity_level.*output"):
        load_installation(_write(tmp_path, records=records))


def test_incompatible_units_are_an_error_naming_the_record(tmp_path: Path) -> None:
    records = RECORDS.replace("6000000,kg", "6000000,kWh")
    with pytest.raises(InstallationFileError, match="record 'c2'"):
        load_installation(_write(tmp_path, records=records))


def test_an_adapter_that_fails_stops_the_calculation(tmp_path: Path) -> None:
    path = _write(tmp_path)
    (tmp_path / "records.csv").unlink()
    with pytest.raises(InstallationFileError, match="adapter csv#0"):
        load_installation(path)


def test_a_period_is_required_with_adapters(tmp_path: Path) -> None:
    text = INSTALLATION.replace("period_start = 2026-01-01\n", "")
    with pytest.raises(InstallationFileError, match="period_start: required"):
        load_installation(_write(tmp_path, text))
