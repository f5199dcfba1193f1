"""CSV exports from any ERP, MES or spreadsheet, mapped to activity records by configuration.

Example agent configuration::

    [[adapters]]
    name = "csv"
    path = "exports/"            # one file, or a folder of exports
    pattern = "energy-*.csv"
    delimiter = ";"
    [adapters.mapping]
    columns = { record_id = "Beleg", site = "Werk", activity = "Material", quantity = "Menge",
                unit = "ME", period_start = "Datum", period_end = "Datum" }
    defaults = { region = "DE" }
    units = { KWH = "kWh" }
    activities = { "STROM" = "electricity.grid" }
    date_format = "%d.%m.%Y"
    decimal_comma = true
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fedcarbon.adapters.builtin.exports import ExportAdapter
from fedcarbon.adapters.mapping import IDENTITY, RecordMapping


@dataclass(frozen=True)
class CsvConfig:
    """Options of the ``csv`` adapter.

    Attributes:
        path: an export file, or a folder of export files.
        pattern: glob of the files to read when ``path`` is a folder.
        mapping: how the export's columns become activity fields (identity by default: the file
            already uses the canonical activity CSV columns).
        delimiter: the field separator (``;`` in most European locales).
        encoding: the text encoding (``utf-8-sig`` also accepts a BOM; SAP often writes
            ``cp1252``).
    """

    path: Path
    pattern: str = "*.csv"
    mapping: RecordMapping = IDENTITY
    delimiter: str = ","
    encoding: str = "utf-8-sig"

    def __post_init__(self) -> None:
        if len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, not {self.delimiter!r}")


class CsvAdapter(ExportAdapter):
    """Reads activity rows from CSV exports; incremental by file fingerprint."""

    name: ClassVar[str] = "csv"
    config_type: ClassVar[type[Any]] = CsvConfig

    def __init__(self, config: CsvConfig) -> None:
        super().__init__(config)
        self.config: CsvConfig = config

    def describe(self) -> str:
        return f"csv {self.config.path}"

    def _rows(self, path: Path) -> list[tuple[str, Mapping[str, Any]]]:
        with path.open(newline="", encoding=self.config.encoding) as handle:
            reader = csv.DictReader(handle, delimiter=self.config.delimiter)
            return [(f"{path.name}:{reader.line_num}", _clean(row)) for row in reader]


def _clean(row: dict[str | Any, Any]) -> dict[str, Any]:
    extra = row.pop(None, None)
    cleaned: dict[str, Any] = {str(k).strip(): v for k, v in row.items()}
    if extra:
        cleaned["\0extra"] = extra
    return cleaned
