"""File exports shared by the CSV and Excel adapters: which files, what changed, how rows map.

ERP and MES systems usually drop one export per day or month into a folder. An adapter given a
directory reads every file matching ``pattern``; the sync watermark records each file's size and
modification time, so an incremental run reads only new or changed files.
"""

from __future__ import annotations

import csv
import json
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path

from fedcarbon.adapters.column_mapping import SourceColumns, map_columns
from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
from fedcarbon.adapters.errors import SourceUnavailableError
from fedcarbon.adapters.mapping import RecordMapping


def export_files(adapter: str, path: Path, pattern: str) -> list[Path]:
    """The file itself, or the matching files of a directory in name order.

    Raises:
        SourceUnavailableError: the path does not exist (an unmounted share must not look like
            "no data this month").
    """
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.glob(pattern) if p.is_file())
    raise SourceUnavailableError(adapter, str(path), "no such file or directory")


def fingerprint(path: Path) -> str:
    """Size and modification time: cheap, and changes whenever an export is rewritten."""
    info = path.stat()
    return f"{info.st_size}:{info.st_mtime_ns}"


def changed_files(files: list[Path], watermark: str | None, period: Period) -> list[Path]:
    """The files whose fingerprint differs from the one in ``watermark``.

    A watermark belongs to one period: given another period's watermark, every file is read
    (otherwise files already read for January would be skipped when syncing February).
    """
    if watermark is None:
        return files
    try:
        state = json.loads(watermark)
    except ValueError:
        return files
    if not isinstance(state, dict) or state.get("period") != str(period):
        return files
    seen = state.get("files")
    if not isinstance(seen, dict):
        return files
    return [f for f in files if seen.get(str(f)) != fingerprint(f)]


def watermark_for(files: list[Path], period: Period) -> str:
    """The watermark after reading ``files`` for ``period``: their fingerprints as JSON."""
    state = {"period": str(period), "files": {str(f): fingerprint(f) for f in files}}
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


ColumnReader = Callable[[Path], tuple[SourceColumns, list[Rejected]]]
"""Reads one export file into columns, with the rows it refused outright (ragged rows)."""


def read_exports(
    adapter: str,
    files: list[Path],
    columns_of: ColumnReader,
    mapping: RecordMapping,
    period: Period,
) -> FetchResult:
    """Map every row of ``files`` (read column-wise by ``columns_of``) in one batch.

    A file that cannot be read or decoded is reported as one ``Rejected`` entry and the other
    files are still read: one corrupt export must not hide a month of good ones. All files are
    mapped together, so a record id repeated across files is caught as a duplicate.
    """
    rejected: list[Rejected] = []
    parts: list[SourceColumns] = []
    for path in files:
        try:
            table, refused = columns_of(path)
        except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
            rejected.append(Rejected(path.name, None, f"file could not be read: {exc}"))
            continue
        rejected.extend(refused)
        if len(table):
            parts.append(table)
    if not parts:
        return FetchResult([], rejected, None, 0)
    mapped = map_columns(SourceColumns.concat(parts), mapping, source=adapter, period=period)
    rejected.extend(mapped.rejected)
    return FetchResult(mapped.records, rejected, None, mapped.ignored)


class ExportAdapter(Adapter):
    """An adapter over export files: ``path``/``pattern`` pick them, ``_columns`` reads one.

    Subclasses (CSV, Excel) only say how a file becomes columns; which files to read,
    incremental sync by file fingerprint and the (column-wise) mapping are the same for every
    export format.
    """

    incremental = True

    def fetch(self, period: Period) -> FetchResult:
        return self.sync(period, None)

    def sync(self, period: Period, watermark: str | None) -> FetchResult:
        files = export_files(self.name, self.config.path, self.config.pattern)
        result = read_exports(
            self.name,
            changed_files(files, watermark, period),
            self._columns,
            self.config.mapping,
            period,
        )
        return FetchResult(
            result.records, result.rejected, watermark_for(files, period), result.ignored
        )

    @abstractmethod
    def _columns(self, path: Path) -> tuple[SourceColumns, list[Rejected]]:
        """One export file as columns (each row's reference is file:row), and refused rows."""
