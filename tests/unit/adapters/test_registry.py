"""Discovery through the entry-point group and building adapters from TOML tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fedcarbon.adapters.builtin.csv_export import CsvAdapter
from fedcarbon.adapters.contract import Period
from fedcarbon.adapters.errors import AdapterConfigError, AdapterNotFoundError
from fedcarbon.adapters.registry import available_adapters, create_adapter


def test_builtins_are_registered_as_entry_points() -> None:
    assert {"csv", "xlsx"} <= set(available_adapters())


def test_builtins_are_marked_as_builtin() -> None:
    assert available_adapters()["csv"].builtin


def test_unknown_adapter_error_lists_installed_ones() -> None:
    with pytest.raises(AdapterNotFoundError, match=r"installed: .*csv"):
        create_adapter("sap-r3-direct", {})


def test_name_key_of_the_toml_table_is_accepted() -> None:
    assert isinstance(create_adapter("csv", {"name": "csv", "path": "x.csv"}), CsvAdapter)


def test_bad_mapping_unit_is_reported_under_mapping_key() -> None:
    with pytest.raises(AdapterConfigError, match=r"mapping.units.X"):
        create_adapter("csv", {"path": "x.csv", "mapping": {"units": {"X": "nonsense_unit"}}})


def test_period_refuses_end_before_start() -> None:
    with pytest.raises(ValueError, match=r"before its start"):
        Period(date(2024, 2, 1), date(2024, 1, 1))


def test_config_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    adapter = create_adapter("csv", {"path": "a.csv"}, base_dir=tmp_path)
    assert adapter.describe() == f"csv {tmp_path / 'a.csv'}"
