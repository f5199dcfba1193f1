"""File exports shared by the CSV and Excel adapters: which files, and what changed since last time.

ERP and MES systems usually drop one export per day or month into a folder. An adapter given a
directory reads every file matching ``pattern``; the sync watermark records each file's size and
modification time, so an incremental run reads only new or changed files.
"""

from __future__ import annotations

import json
from pathlib import Path

from fedcarbon.adapters.contract import Period
from fedcarbon.adapters.errors import SourceUnavailableError


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
