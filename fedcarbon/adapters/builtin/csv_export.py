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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from fedcarbon.accounting.activity_table import plain_lines
from fedcarbon.adapters.builtin.exports import ExportAdapter
from fedcarbon.adapters.column_mapping import SourceColumn, SourceColumns
from fedcarbon.adapters.contract import Rejected
from fedcarbon.adapters.mapping import IDENTITY, RecordMapping
from fedcarbon.lazy import LazySequence


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

    def _columns(self, path: Path) -> tuple[SourceColumns, list[Rejected]]:
        return read_csv_columns(path, self.config.encoding, self.config.delimiter)


class _Refs(LazySequence[str]):
    """``file.csv:line`` for each row, made when asked (a million strings cost memory)."""

    def __init__(self, name: str, lines: list[int] | npt.NDArray[np.int64]) -> None:
        self._name = name
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    def _build(self, index: int) -> str:
        return f"{self._name}:{int(self._lines[index])}"


def read_csv_columns(
    path: Path, encoding: str, delimiter: str
) -> tuple[SourceColumns, list[Rejected]]:
    """An export's cells as dictionary-encoded columns, and the ragged rows refused.

    pyarrow reads plain UTF-8 files (no quote character, see ``activity_table.plain_lines``);
    anything else goes through the ``csv`` module. Header names are stripped; a repeated name
    keeps its last column, as ``csv.DictReader``'s dicts do.
    """
    if encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8"):
        lines = plain_lines(path)
        if lines is not None:
            found = _arrow_columns(path, delimiter, lines)
            if found is not None:
                return found, []
    return _csv_module_columns(path, encoding, delimiter)


def _header(line: str, delimiter: str) -> list[str]:
    return [name.strip() for name in next(csv.reader([line], delimiter=delimiter))]


def _arrow_columns(
    path: Path, delimiter: str, lines: npt.NDArray[np.int64]
) -> SourceColumns | None:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if len(lines) == 0 or lines[0] != 1:
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        names = _header(handle.readline().rstrip("\r\n"), delimiter)
    if len(set(names)) != len(names):
        return None
    labels = [f"c{j}" for j in range(len(names))]
    indices: list[dict[str, int]] = [{} for _ in names]
    codes: list[list[npt.NDArray[np.int32]]] = [[] for _ in names]
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=labels, skip_rows=1, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types={label: pa.string() for label in labels},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            for j, index in enumerate(indices):
                encoded = batch.column(j).dictionary_encode()
                remap = np.asarray(
                    [index.setdefault(v, len(index)) for v in encoded.dictionary.to_pylist()],
                    dtype=np.int32,
                )
                codes[j].append(remap[encoded.indices.to_numpy(zero_copy_only=False)])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # ragged rows, bad UTF-8: the csv module path reports them
    columns = {
        name: SourceColumn(
            list(indices[j]),
            np.concatenate(codes[j]) if codes[j] else np.zeros(0, dtype=np.int32),
        )
        for j, name in enumerate(names)
    }
    if any(len(c.codes) != len(lines) - 1 for c in columns.values()):
        return None
    return SourceColumns(columns, _Refs(path.name, lines[1:]))


def _csv_module_columns(
    path: Path, encoding: str, delimiter: str
) -> tuple[SourceColumns, list[Rejected]]:
    refused: list[Rejected] = []
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return SourceColumns({}, []), []
        names = [str(name).strip() for name in header]
        position = {name: j for j, name in enumerate(names)}  # a repeated name: the last wins
        width = len(names)
        indices: dict[str, dict[str, int]] = {name: {} for name in position}
        codes: dict[str, list[int]] = {name: [] for name in position}
        lines: list[int] = []
        for row in reader:
            if not row:
                continue  # csv.DictReader skips empty rows too
            ref = f"{path.name}:{reader.line_num}"
            if len(row) > width:
                refused.append(Rejected(ref, None, "more cells than header columns"))
                continue
            if len(row) < width:
                refused.append(Rejected(ref, None, "fewer cells than header columns"))
                continue
            lines.append(reader.line_num)
            for name, j in position.items():
                index = indices[name]
                codes[name].append(index.setdefault(row[j], len(index)))
    columns = {
        name: SourceColumn(list(indices[name]), np.asarray(codes[name], dtype=np.int32))
        for name in position
    }
    return SourceColumns(columns, _Refs(path.name, lines)), refused
