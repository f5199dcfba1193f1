"""The CSV adapter: conformance kit over a German-locale ERP export, plus file handling."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fedcarbon.adapters.builtin.csv_export import CsvAdapter
from fedcarbon.adapters.contract import Period
from fedcarbon.adapters.errors import AdapterConfigError, SourceUnavailableError
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.unit.adapters.samples import (
    ERP_EXPECTED_QUANTITIES,
    ERP_MAPPING,
    ERP_ROWS,
    YEAR_2024,
    write_erp_csv,
)


def _csv(path: Path, **extra: object) -> CsvAdapter:
    adapter = create_adapter(
        "csv", {"path": str(path), "delimiter": ";", "mapping": ERP_MAPPING, **extra}
    )
    assert isinstance(adapter, CsvAdapter)
    return adapter


class TestCsvConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, erp_csv: Path, tmp_path: Path) -> ConformanceCase:
        return ConformanceCase(
            make_adapter=lambda: _csv(erp_csv),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=3,
            expected_quantities=ERP_EXPECTED_QUANTITIES,
            make_unreachable=lambda: _csv(tmp_path / "unmounted-share" / "movements.csv"),
        )


def test_rows_of_other_periods_are_counted_as_ignored(erp_csv: Path) -> None:
    assert _csv(erp_csv).fetch(YEAR_2024).ignored == 1


def test_rejection_names_file_and_line(erp_csv: Path) -> None:
    refs = {r.source_ref for r in _csv(erp_csv).fetch(YEAR_2024).rejected}
    assert refs == {"movements.csv:5", "movements.csv:6", "movements.csv:7"}


def test_folder_reads_every_matching_export(tmp_path: Path) -> None:
    write_erp_csv(tmp_path / "jan.csv", ERP_ROWS[:2])
    write_erp_csv(tmp_path / "feb.csv", ERP_ROWS[2:3])
    (tmp_path / "notes.txt").write_text("not an export")
    assert len(_csv(tmp_path).fetch(YEAR_2024).records) == 3


def test_sync_reads_only_changed_files(tmp_path: Path) -> None:
    write_erp_csv(tmp_path / "jan.csv", ERP_ROWS[:2])
    feb = write_erp_csv(tmp_path / "feb.csv", ERP_ROWS[2:3])
    first = _csv(tmp_path).sync(YEAR_2024, None)
    write_erp_csv(feb, [*ERP_ROWS[2:3], ["4900009", "P2", "DIESEL", "5", "L", "04.02.2024"]])
    os.utime(feb, ns=(1, 1))  # a rewrite with a different mtime, whatever the clock resolution
    again = _csv(tmp_path).sync(YEAR_2024, first.watermark)
    assert sorted(r.record_id for r in again.records) == ["P2-4900003", "P2-4900009"]


def test_undecodable_file_is_rejected_and_other_files_still_read(tmp_path: Path) -> None:
    write_erp_csv(tmp_path / "jan.csv", ERP_ROWS[:2])
    (tmp_path / "broken.csv").write_bytes(b"Beleg;Werk\n\xff\xfe\xfa;\x81\n")
    result = _csv(tmp_path).fetch(YEAR_2024)
    assert (len(result.records), [r.source_ref for r in result.rejected]) == (2, ["broken.csv"])


def test_row_with_extra_cells_is_rejected(tmp_path: Path) -> None:
    path = write_erp_csv(tmp_path / "x.csv", [[*ERP_ROWS[0], "surplus"]])
    assert [r.reason for r in _csv(path).fetch(YEAR_2024).rejected] == [
        "more cells than header columns"
    ]


def test_missing_path_raises_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailableError, match="no such file"):
        _csv(tmp_path / "absent.csv").fetch(YEAR_2024)


def test_multi_character_delimiter_is_a_config_error(erp_csv: Path) -> None:
    with pytest.raises(AdapterConfigError, match="delimiter"):
        _csv(erp_csv, delimiter=";;")


def test_canonical_activity_csv_needs_no_mapping(tmp_path: Path) -> None:
    path = tmp_path / "activities.csv"
    path.write_text(
        "record_id,period_start,period_end,site,activity,quantity,unit,region\n"
        "r1,2024-01-01,2024-12-31,HQ,electricity.grid,1200,kWh,FR\n"
    )
    adapter = create_adapter("csv", {"path": "activities.csv"}, base_dir=tmp_path)
    assert [r.record_id for r in adapter.fetch(YEAR_2024).records] == ["r1"]


def test_watermark_of_another_period_reads_everything(tmp_path: Path) -> None:
    write_erp_csv(tmp_path / "jan.csv", ERP_ROWS[:2])
    january = _csv(tmp_path).sync(Period.parse("2024-01"), None)
    february = _csv(tmp_path).sync(Period.parse("2024-02"), january.watermark)
    assert february.ignored == 2  # both January rows were read again, and left out by period
