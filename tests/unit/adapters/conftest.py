"""Fixtures for the adapter SDK's unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.adapters.samples import write_erp_csv


@pytest.fixture
def erp_csv(tmp_path: Path) -> Path:
    return write_erp_csv(tmp_path / "movements.csv")
