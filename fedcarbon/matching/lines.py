"""Reading purchase lines (one free-text description per row) from a CSV file."""

from __future__ import annotations

import csv
from pathlib import Path

from fedcarbon.matching.errors import LinesError

MAX_DESCRIPTION = 1000
"""Characters: an ERP short text is under 100; more is not a purchase line (wrong column?)."""


def read_descriptions(path: Path, column: str) -> list[str]:
    """The ``column`` cell of every data row of a UTF-8 CSV, in file order.

    Raises:
        LinesError: the file is missing, not UTF-8 text, has no header or no such column, or a
            row's description is empty, holds control characters or is longer than
            ``MAX_DESCRIPTION`` (names file and row).
    """
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None:
                raise LinesError(name, "file is empty (no header row)")
            if column not in reader.fieldnames:
                known = ", ".join(repr(f) for f in reader.fieldnames)
                raise LinesError(name, f"no column {column!r} (columns: {known})")
            out: list[str] = []
            for row in reader:
                value = (row.get(column) or "").strip()
                if not value:
                    raise LinesError(name, f"column {column!r} is empty", row=reader.line_num)
                if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
                    raise LinesError(
                        name,
                        f"column {column!r} contains a control character (binary data?)",
                        row=reader.line_num,
                    )
                if len(value) > MAX_DESCRIPTION:
                    raise LinesError(
                        name,
                        f"column {column!r} has {len(value)} characters (at most "
                        f"{MAX_DESCRIPTION} for a purchase line)",
                        row=reader.line_num,
                    )
                out.append(value)
            return out
    except FileNotFoundError:
        raise LinesError(name, "no such file") from None
    except IsADirectoryError:
        raise LinesError(name, "is a directory, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise LinesError(name, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise LinesError(name, f"not a readable CSV file: {exc}") from None
