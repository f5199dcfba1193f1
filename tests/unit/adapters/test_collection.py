"""Running all configured adapters: failures are reported and the rest carry on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedcarbon.adapters.collection import collect, load_adapters
from fedcarbon.adapters.contract import Adapter, FetchResult, Period
from fedcarbon.adapters.errors import AdapterConfigError
from tests.unit.adapters.samples import ERP_MAPPING, YEAR_2024, write_erp_csv


def _tables(tmp_path: Path) -> list[dict[str, Any]]:
    write_erp_csv(tmp_path / "a.csv")
    return [
        {"name": "csv", "label": "erp", "path": "a.csv", "delimiter": ";", "mapping": ERP_MAPPING},
        {"name": "csv", "path": "unmounted/b.csv"},
    ]


def test_unreachable_source_is_a_failure_and_others_still_count(tmp_path: Path) -> None:
    run = collect(load_adapters(_tables(tmp_path), base_dir=tmp_path), YEAR_2024)
    assert (len(run.records), [(f.label, f.unavailable) for f in run.failures]) == (
        3,
        [("csv#1", True)],
    )


def test_rejections_carry_the_adapter_label(tmp_path: Path) -> None:
    run = collect(load_adapters(_tables(tmp_path), base_dir=tmp_path), YEAR_2024)
    assert {label for label, _ in run.rejected} == {"erp"}


def test_crashing_adapter_does_not_stop_the_run(tmp_path: Path) -> None:
    adapters = load_adapters(_tables(tmp_path)[:1], base_dir=tmp_path)

    class Broken(Adapter):
        name = "broken"
        config_type = dict

        def fetch(self, period: Period) -> FetchResult:
            raise KeyError("column")

    adapters.insert(0, type(adapters[0])(9, "broken", Broken({})))
    run = collect(adapters, YEAR_2024)
    assert (len(run.records), run.failures[0].error) == (3, "adapter crashed: KeyError: 'column'")


def test_same_record_id_from_two_adapters_is_rejected_once(tmp_path: Path) -> None:
    tables = _tables(tmp_path)[:1] * 2
    tables[1] = {**tables[1], "label": "erp-copy"}
    run = collect(load_adapters(tables, base_dir=tmp_path), YEAR_2024)
    assert (len(run.records), sum(1 for label, _ in run.rejected if label == "erp-copy")) == (
        3,
        3 + 3,
    )


def test_config_error_names_the_table_index(tmp_path: Path) -> None:
    with pytest.raises(AdapterConfigError, match=r"adapters\[1\]\.pth"):
        load_adapters([{"name": "csv", "path": "a"}, {"name": "csv", "pth": "b"}])


def test_duplicate_labels_are_refused() -> None:
    with pytest.raises(AdapterConfigError, match="not unique"):
        load_adapters([{"name": "csv", "path": "a", "label": "x"}] * 2)


def test_watermarks_are_returned_per_label(tmp_path: Path) -> None:
    run = collect(load_adapters(_tables(tmp_path)[:1], base_dir=tmp_path), YEAR_2024, watermarks={})
    assert list(run.watermarks) == ["erp"]
