"""Excel workbooks (.xlsx), the other export every ERP and every energy manager produces.

Configured like the ``csv`` adapter, plus the worksheet and the header row. Cells keep their
Excel types: dates arrive as dates and numbers as numbers, so no locale guessing is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fedcarbon.adapters.builtin.exports import ExportAdapter
from fedcarbon.adapters.column_mapping import SourceColumns
from fedcarbon.adapters.contract import Rejected
from fedcarbon.adapters.mapping import IDENTITY, RecordMapping


@dataclass(frozen=True)
class ExcelConfig:
    """Options of the ``xlsx`` adapter.

    Attributes:
        path: a workbook, or a folder of workbooks.
        pattern: glob of the workbooks to read when ``path`` is a folder.
        sheet: worksheet name; the first sheet when unset.
        header_row: 1-based row holding the column names (exports often start with a title).
        mapping: how the sheet's columns become activity fields.
    """

    path: Path
    pattern: str = "*.xlsx"
    sheet: str | None = None
    header_row: int = 1
    mapping: RecordMapping = IDENTITY

    def __post_init__(self) -> None:
        if self.header_row < 1:
            raise ValueError(f"header_row must be 1 or more, not {self.header_row}")


class ExcelAdapter(ExportAdapter):
    """Reads activity rows from .xlsx workbooks with openpyxl (read-only, values not formulas)."""

    name: ClassVar[str] = "xlsx"
    config_type: ClassVar[type[Any]] = ExcelConfig

    def __init__(self, config: ExcelConfig) -> None:
        super().__init__(config)
        self.config: ExcelConfig = config

    def describe(self) -> str:
        sheet = f" [{self.config.sheet}]" if self.config.sheet else ""
        return f"xlsx {self.config.path}{sheet}"

    def _columns(self, path: Path) -> tuple[SourceColumns, list[Rejected]]:
        return SourceColumns.from_rows(self._rows(path)), []

    def _rows(self, path: Path) -> list[tuple[str, Mapping[str, Any]]]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/XML errors of many kinds
            raise ValueError(f"not a readable .xlsx workbook ({type(exc).__name__})") from None
        try:
            if self.config.sheet is not None and self.config.sheet not in book.sheetnames:
                raise KeyError(f"no worksheet {self.config.sheet!r} (has {book.sheetnames})")
            sheet = book[self.config.sheet] if self.config.sheet else book.worksheets[0]
            header: list[str] | None = None
            out: list[tuple[str, Mapping[str, Any]]] = []
            for number, cells in enumerate(
                sheet.iter_rows(min_row=self.config.header_row, values_only=True),
                start=self.config.header_row,
            ):
                if header is None:
                    header = ["" if c is None else str(c).strip() for c in cells]
                    continue
                if all(c is None or c == "" for c in cells):
                    continue
                row = {
                    name: ("" if v is None else v)
                    for name, v in zip(header, cells, strict=False)
                    if name
                }
                out.append((f"{path.name}:{sheet.title}!{number}", row))
            return out
        finally:
            book.close()
